"""The urn API (/study_config, /study_participants) counts against a key's rate limit as every
other API does (a 429 in the urn API's shape, with Retry-After), and the OpenAPI document
states the scope the server enforces: randomizing needs a write key, not an admin key."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from server.rest.routes import spec

STUDY = "My Study"
LEVELS = {"age_group": "18-40", "sex": "Female"}


@pytest.fixture
def keys_and_client(settings):
    app = create_app(settings.with_changes(api_rate_limit_per_minute=3))
    with app.state.grove.db.transaction() as db:
        keys = {scope: create_key(db, f"user_{scope}", scope) for scope in ("read", "write")}
    with TestClient(app) as client:
        yield keys, client
    app.state.grove.db.dispose()


def test_the_urn_api_counts_against_the_keys_rate_limit(keys_and_client):
    keys, client = keys_and_client
    params = {"api_key": keys["write"], "study": STUDY}
    answers = [
        client.get("/study_config", params=params),
        client.get("/study_participants", params=params),
        client.post("/study_participants", params={**params, "id": "P1", **LEVELS}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    refused = client.post("/study_participants", params={**params, "id": "P2", **LEVELS})
    assert refused.status_code == 429
    body = refused.json()
    assert body["status"] == 429
    assert body["results"] == []
    assert "3 API requests a minute" in body["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # The refused draw wrote nothing; the other key has its own count.
    listed = client.get("/study_participants", params={"api_key": keys["read"], "study": STUDY})
    assert [row["id"] for row in listed.json()["results"]] == ["P1"]


def test_the_spec_says_randomizing_needs_a_write_key_as_the_server_does(keys_and_client):
    keys, client = keys_and_client
    operation = spec()["paths"]["/study_participants"]["post"]
    assert operation["x-required-scope"] == "write"
    assert {"403", "429"} <= set(operation["responses"])
    written = client.post(
        "/study_participants", params={"api_key": keys["write"], "study": STUDY, "id": "W"} | LEVELS
    )
    assert written.status_code == 200
    refused = client.post(
        "/study_participants", params={"api_key": keys["read"], "study": STUDY, "id": "R"} | LEVELS
    )
    assert refused.status_code == 403


def test_every_keyed_operation_documents_the_rate_limits_429():
    for path, operations in spec()["paths"].items():
        for method, operation in operations.items():
            if "x-required-scope" in operation:
                assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)
