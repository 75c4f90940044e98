"""The API keys page: create, list, regenerate, revoke, as the CLI does; a key is shown once
and works on the REST API until it is regenerated or revoked."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.admin_pages import database_snapshot, form_with_action, submit_form
from tests.databases import engine as make_engine


def _shown_key(html: str) -> str:
    found = re.findall(r'<code class="grove-key">([\w-]+)</code>', html)
    assert len(found) == 1, found
    return found[0]


def _api_status(client: TestClient, key: str) -> int:
    return client.get("/api/sessions/", headers={"otree-rest-key": key}).status_code


def test_keys_are_created_shown_once_regenerated_and_revoked(client):
    created = submit_form(client, "/apikeys", "/apikeys", {"user": "alice"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    key = _shown_key(created.text)
    assert "shown once" in created.text
    assert _api_status(client, key) == 200
    assert _api_status(client, "not-a-key") == 403  # a key exists: the API is closed

    listing = client.get("/apikeys")
    assert "<td>alice</td>" in listing.text
    assert key not in listing.text  # never shown again
    assert 'class="grove-key"' not in listing.text

    regenerated = submit_form(client, "/apikeys", "/apikeys/alice/regenerate")
    assert regenerated.status_code == 200
    new_key = _shown_key(regenerated.text)
    assert new_key != key
    assert _api_status(client, key) == 403
    assert _api_status(client, new_key) == 200

    revoked = submit_form(client, "/apikeys", "/apikeys/alice/revoke")
    assert revoked.status_code == 303
    assert "<td>alice</td>" not in client.get("/apikeys").text
    assert "No API keys yet." in client.get("/apikeys").text
    assert _api_status(client, new_key) == 200  # no key left at all: the API is open again


def test_a_bad_or_taken_user_name_is_refused_with_nothing_written(client, settings):
    assert submit_form(client, "/apikeys", "/apikeys", {"user": "bob"}).status_code == 200
    engine = make_engine(settings.database_url)
    try:
        before = database_snapshot(engine)
        for user, message in [
            ("bob", "already has a key"),
            ("bob smith", "user names are 1-100 letters"),
            ("", "user names are 1-100 letters"),
        ]:
            refused = submit_form(client, "/apikeys", "/apikeys", {"user": user})
            assert refused.status_code == 400, user
            assert message in refused.text
            assert 'class="grove-key"' not in refused.text
        assert database_snapshot(engine) == before
    finally:
        engine.dispose()
    token = dict(form_with_action(client.get("/apikeys").text, "/apikeys").submission())
    for action in ("regenerate", "revoke"):
        missing = client.post(f"/apikeys/nobody/{action}", data={"csrf_token": token["csrf_token"]})
        assert missing.status_code == 404
