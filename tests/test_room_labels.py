"""Labels and codes the rooms and vars URLs take: up to 200 characters are stored; a longer
one, or one with a character no database holds (NUL, a lone surrogate), is a clear 4xx in the
route family's shape (JSON for /api/... and the status URL, a page for the room), never a 500.

On SQLite these pass through unnoticed; PostgreSQL refuses NUL and over-long values, so each
test runs on both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from tests import databases
from tests.databases import BOTH
from tests.rest_helpers import assert_error_shape

ROOM = "qualtrics_study"
LONGEST = "x" * 200
TOO_LONG = "x" * 201


@pytest.fixture(params=BOTH)
def room_client(request, settings, tmp_path) -> Iterator[TestClient]:
    """A client of an app on SQLite, or on PostgreSQL (slow)."""
    settings = settings.with_changes(
        database_url=databases.database_url(tmp_path, "rooms", request.param)
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.grove.db.dispose()


def _create(client: TestClient) -> str:
    created = client.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 2, "room_name": ROOM},
    )
    assert created.status_code == 200, created.text
    return created.json()["code"]


def _pending_count(client: TestClient) -> int:
    engine = client.app.state.grove.db.engine
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM grove_pending_vars")).scalar_one()


def _labels(client: TestClient, code: str) -> dict[str, dict]:
    detail = client.get(f"/api/sessions/{code}").json()
    return {p["label"]: p["vars"] for p in detail["participants"] if p["label"]}


def _is_page(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("label", "field"),
    [
        (TOO_LONG, "participant_label"),
        ("a\x00b", "participant_label"),
        ("a\ud800b", "participant_label"),
        ("", "participant_label"),
        (17, "participant_label"),
    ],
    ids=["201 characters", "NUL", "lone surrogate", "empty", "not a string"],
)
def test_vars_post_refuses_a_label_no_database_stores(room_client, label, field):
    # Sent as JSON escapes, as a client would: "\ud800" decodes to a lone surrogate.
    payload = json.dumps({"room_name": ROOM, "participant_label": label, "vars": {"a": 1}})
    response = room_client.post(
        "/api/participant_vars/", content=payload, headers={"content-type": "application/json"}
    )
    body = assert_error_shape(response, 400)
    assert body["errors"][0]["field"] == field
    assert _pending_count(room_client) == 0


def test_label_of_200_characters_is_stored_by_vars_post_and_room(room_client):
    posted = room_client.post(
        "/api/participant_vars/",
        json={"room_name": ROOM, "participant_label": LONGEST, "vars": {"age": 30}},
    )
    assert posted.json() == {"ok": True, "applied": False, "pending": True}
    code = _create(room_client)
    joined = room_client.post(f"/room/{ROOM}/", data={"participant_label": LONGEST})
    assert joined.status_code == 200  # followed to the participant's first page
    assert _labels(room_client, code) == {LONGEST: {"age": 30}}
    assert _pending_count(room_client) == 0


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("label", [TOO_LONG, "a\x00b"], ids=["201 characters", "NUL"])
def test_room_page_refuses_a_bad_label_with_a_page(room_client, method, label):
    code = _create(room_client)
    if method == "get":
        response = room_client.get(f"/room/{ROOM}/", params={"participant_label": label})
    else:
        response = room_client.post(
            f"/room/{ROOM}/", data={"participant_label": label}, follow_redirects=False
        )
    _is_page(response, 400)
    assert _labels(room_client, code) == {}


@pytest.mark.parametrize("label", [TOO_LONG, "a\x00b"], ids=["201 characters", "NUL"])
def test_room_status_refuses_a_bad_label_as_json(room_client, label):
    response = room_client.get(f"/room/{ROOM}/status", params={"participant_label": label})
    assert_error_shape(response, 400)


def test_room_status_takes_a_label_of_200_characters(room_client):
    arrived = room_client.post(f"/room/{ROOM}/", data={"participant_label": LONGEST})
    assert arrived.status_code == 200  # waiting: an arrival, which the poll keeps fresh
    response = room_client.get(f"/room/{ROOM}/status", params={"participant_label": LONGEST})
    assert response.json() == {"ready": False, "waiting": 1}


def _with_cookie(client: TestClient, method: str, path: str, token: str):
    client.cookies.clear()
    return client.request(
        method, path, headers={"cookie": f"grove_browser={token}"}, follow_redirects=False
    )


def test_damaged_browser_cookie_is_replaced(room_client):
    _create(room_client)
    damaged = "y" * 300  # longer than any token Grove hands out (and than the column)
    first = _with_cookie(room_client, "POST", f"/room/{ROOM}/", damaged)
    assert first.status_code == 303, first.text
    token = first.cookies["grove_browser"]
    assert len(token) < 64
    again = _with_cookie(room_client, "POST", f"/room/{ROOM}/", token)
    assert again.headers["location"] == first.headers["location"]
    status = _with_cookie(room_client, "GET", f"/room/{ROOM}/status", damaged)
    assert status.json() == {"ready": True, "waiting": 0}


@pytest.mark.parametrize(
    "path",
    [
        "/api/participant_vars/a%00b",
        "/api/session_vars/a%00b",
        "/api/participant_vars/" + "c" * 300,
        "/api/session_vars/" + "c" * 300,
    ],
    ids=["participant NUL", "session NUL", "participant long", "session long"],
)
def test_vars_by_code_refuses_a_code_no_database_stores(room_client, path):
    response = room_client.post(path, json={"vars": {"a": 1}})
    assert 400 <= response.status_code < 500, response.text
    assert_error_shape(response, response.status_code)
