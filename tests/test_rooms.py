"""Rooms for browser participants: labels, waiting, returning, secure links, full sessions."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.errors import ConfigurationError
from server.rooms import label_signature, load_rooms
from tests.admin_pages import submit_form


def _create(client, room, config="survey", n=2):
    response = client.post(
        "/api/sessions/",
        json={"session_config_name": config, "num_participants": n, "room_name": room},
    )
    assert response.status_code == 200, response.text
    return response.json()["code"]


def _join(client, room, label=None, **extra):
    data = {"participant_label": label} if label else {}
    data.update(extra)
    return client.post(f"/room/{room}/", data=data, follow_redirects=False)


def test_room_with_labels_asks_for_one(client):
    page = client.get("/room/econ101/")
    assert page.status_code == 200
    assert 'name="participant_label"' in page.text


def test_link_preview_does_not_consume_a_participant(client, app):
    code = _create(client, "econ101")
    for _ in range(3):
        preview = client.get("/room/econ101/?participant_label=alice")
        assert preview.status_code == 200
        assert "grove-start" in preview.text
    detail = client.get(f"/api/sessions/{code}").json()
    assert all(p["label"] is None for p in detail["participants"])


def test_label_joins_and_returns_to_the_same_participant(client):
    code = _create(client, "econ101")
    first = _join(client, "econ101", "alice")
    assert first.status_code == 303
    assert first.headers["location"].startswith("/InitializeParticipant/")
    again = _join(client, "econ101", "alice")
    assert again.headers["location"] == first.headers["location"]
    other = TestClient(client.app)  # another browser, another label
    bob = _join(other, "econ101", "bob")
    assert bob.headers["location"] != first.headers["location"]
    labels = {p["label"] for p in client.get(f"/api/sessions/{code}").json()["participants"]}
    assert labels == {"alice", "bob"}


def test_unknown_label_is_refused(client):
    """As oTree's room page: the label form again, "This participant label was not found", so
    a participant who mistyped their label can type it again (a 403: oTree's is a 200); nobody
    joins."""
    code = _create(client, "econ101")
    for refused in (
        _join(client, "econ101", "mallory"),
        client.get("/room/econ101/", params={"participant_label": "mallory"}),
    ):
        assert refused.status_code == 403
        assert "This participant label was not found" in refused.text
        assert 'name="participant_label"' in refused.text
    labels = {p["label"] for p in client.get(f"/api/sessions/{code}").json()["participants"]}
    assert labels == {None}


def test_anonymous_room_same_browser_same_participant(client):
    _create(client, "live_demo", n=2)
    page = client.get("/room/live_demo/")
    assert "grove-start" in page.text
    first = _join(client, "live_demo")
    assert _join(client, "live_demo").headers["location"] == first.headers["location"]


def test_full_session_page(client):
    _create(client, "live_demo", n=1)
    _join(client, "live_demo")
    stranger = TestClient(client.app)
    full = _join(stranger, "live_demo")
    assert full.status_code == 409
    assert "session is full" in full.text


def test_waiting_then_session_created_by_rest(client):
    waiting = client.get(_join(client, "econ101", "carol").headers["location"])
    assert waiting.status_code == 200
    assert "Please wait" in waiting.text
    status = client.get("/room/econ101/status?participant_label=carol").json()
    assert status == {"ready": False, "waiting": 1}
    _create(client, "econ101")
    assert client.get("/room/econ101/status?participant_label=carol").json()["ready"] is True
    joined = _join(client, "econ101", "carol")
    assert joined.status_code == 303


@pytest.mark.parametrize(("room", "label"), [("econ101", "carol"), ("live_demo", None)])
def test_the_waiting_page_is_a_get_a_reload_shows_again(client, room, label):
    """Joining before the session exists (a POST) leads to the waiting page by a redirect
    (POST, redirect, GET), so a reload (F5) or Enter in the address bar shows the waiting
    page again: no "Confirm form resubmission", no label asked again. oTree's waiting page
    keeps participant_label in its URL likewise. A GET still takes no seat: it shows the
    waiting page only to a visitor already waiting (by label, or by browser)."""
    joined = _join(client, room, label)
    assert joined.status_code == 303
    location = joined.headers["location"]
    assert urlparse(location).path == f"/room/{room}/"
    if label:
        assert parse_qs(urlparse(location).query)["participant_label"] == [label]
    for _ in range(2):  # the redirect's GET, then a reload
        page = client.get(location)
        assert page.status_code == 200
        assert "Please wait" in page.text
        assert 'id="grove-room-form"' in page.text
    status = f"/room/{room}/status" + (f"?participant_label={label}" if label else "")
    assert client.get(status).json() == {"ready": False, "waiting": 1}
    # Someone who has not joined gets the start page from the same kind of URL.
    stranger = TestClient(client.app)
    other = f"/room/{room}/" + ("?participant_label=alice" if label else "")
    assert "grove-start" in stranger.get(other).text
    code = _create(client, room)
    # The waiting page's script submits its form once the session exists: seated.
    seated = _join(client, room, label)
    assert seated.status_code == 303
    assert seated.headers["location"].startswith("/InitializeParticipant/")
    participants = client.get(f"/api/sessions/{code}").json()["participants"]
    assert [p["label"] for p in participants if p["label"]] == ([label] if label else [])


def test_pending_vars_applied_on_arrival(client):
    for vars_ in ({"age": 24, "x": 1}, {"age": 25}):  # the second merges into the first
        posted = client.post(
            "/api/participant_vars/",
            json={"room_name": "qualtrics_study", "participant_label": "albert_e", "vars": vars_},
        )
        assert posted.json() == {"ok": True, "applied": False, "pending": True}
    code = _create(client, "qualtrics_study")
    _join(client, "qualtrics_study", "albert_e")
    participants = client.get(f"/api/sessions/{code}").json()["participants"]
    mine = [p for p in participants if p["label"] == "albert_e"]
    assert mine
    assert mine[0]["vars"] == {"age": 25, "x": 1}


def test_vars_posted_for_arrived_participants_merge_and_reach_the_next_export_pull(client):
    code = _create(client, "qualtrics_study")
    _join(client, "qualtrics_study", "albert_e")
    by_label = {"room_name": "qualtrics_study", "participant_label": "albert_e"}
    posted = client.post("/api/participant_vars/", json={**by_label, "vars": {"age": 25}})
    assert posted.json() == {"ok": True, "applied": True, "pending": False}
    pull = client.get("/api/export/all_apps_wide?format=json").json()
    participants = client.get(f"/api/sessions/{code}").json()["participants"]
    [albert] = [p for p in participants if p["label"] == "albert_e"]

    # By label, then by code: each merges into what is there, and each is a change the
    # next incremental pull returns (this participant's row only).
    for url, body, expected in (
        ("/api/participant_vars/", {**by_label, "vars": {"x": [1, 2]}}, {"age": 25, "x": [1, 2]}),
        (
            f"/api/participant_vars/{albert['code']}",
            {"vars": {"age": 26}},
            {"age": 26, "x": [1, 2]},
        ),
        # True replacing 1 (equal in Python, not as stored) is a change too, by label and code.
        ("/api/participant_vars/", {**by_label, "vars": {"done": 1}}, {"age": 26, "done": 1}),
        ("/api/participant_vars/", {**by_label, "vars": {"done": True}}, {"age": 26, "done": True}),
        (f"/api/participant_vars/{albert['code']}", {"vars": {"done": 1.0}}, {"done": 1.0}),
    ):
        assert client.post(url, json=body).json()["applied"] is True
        participants = client.get(f"/api/sessions/{code}").json()["participants"]
        [stored] = [p["vars"] for p in participants if p["code"] == albert["code"]]
        assert {k: (v, type(v)) for k, v in stored.items() if k in expected} == {
            k: (v, type(v)) for k, v in expected.items()
        }
        since = client.get(f"/api/export/all_apps_wide?format=json&since={pull['next_since']}")
        assert [r["participant.code"] for r in since.json()["rows"]] == [albert["code"]]
        pull = since.json()


def test_secure_room_needs_signed_link(settings):
    project_settings = settings.with_changes(
        rooms=(
            {
                "name": "secure",
                "participant_label_file": "rooms/econ101.txt",
                "use_secure_urls": True,
            },
        )
    )
    app = create_app(project_settings)
    with TestClient(app) as client:
        client.post(
            "/api/sessions/",
            json={"session_config_name": "survey", "num_participants": 1, "room_name": "secure"},
        )
        room = app.state.grove.rooms["secure"]
        assert _join(client, "secure", "alice").status_code == 403
        assert _join(client, "secure", "alice", hash="forged").status_code == 403
        signed = _join(
            client, "secure", "alice", hash=label_signature(project_settings, room, "alice")
        )
        assert signed.status_code == 303
    app.state.grove.db.dispose()


def test_label_file_may_not_leave_rooms(settings):
    bad = settings.with_changes(rooms=({"name": "x", "participant_label_file": "settings.py"},))
    with pytest.raises(ConfigurationError, match="inside _rooms/ or rooms/"):
        load_rooms(bad)


def test_admin_rooms_page_behind_login(settings):
    protected = settings.with_changes(admin_password="s3cret")
    app = create_app(protected)
    with TestClient(app) as client:
        assert client.get("/rooms", follow_redirects=False).status_code == 303
        bad = client.post("/login", data={"username": "admin", "password": "nope"})
        assert bad.status_code == 401
        client.post("/login", data={"username": "admin", "password": "s3cret", "next": "/rooms"})
        page = client.get("/rooms")
        assert page.status_code == 200
        assert "econ101" in page.text
        created = submit_form(
            client, "/rooms", "/rooms/live_demo", {"config": "survey", "num_participants": "2"}
        )
        assert created.status_code == 303
        assert "Close room" in client.get("/rooms").text
        submit_form(client, "/rooms", "/rooms/live_demo")  # the room's form is now "Close"
        waiting = client.get(_join(client, "live_demo").headers["location"])
        assert "waiting" in waiting.text.lower()
    app.state.grove.db.dispose()


def test_signed_links_listed_for_admins(settings):
    project_settings = settings.with_changes(
        rooms=(
            {
                "name": "secure",
                "participant_label_file": "rooms/econ101.txt",
                "use_secure_urls": True,
            },
        )
    )
    app = create_app(project_settings)
    with TestClient(app) as client:
        page = client.get("/rooms").text
        link = page.split("<code>http://testserver/room/secure/?")[1].split("</code>")[0]
        query = parse_qs(urlparse("?" + link.replace("&amp;", "&")).query)
        label = query["participant_label"][0]
        room = app.state.grove.rooms["secure"]
        assert label in room.labels
        assert query["hash"][0] == label_signature(project_settings, room, label)
    app.state.grove.db.dispose()
