"""The admin API's rooms over HTTP: GET rooms/, room/{roomname}/ and its online/; a session
created in a room, disassociate; and rooms stored in the database created, changed and deleted
(settings.py's rooms are read-only: 409 saying so). A participant meets a room made here at
its URL as a settings room."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from tests.rest_helpers import REST_KEY, assert_error_shape, table_counts

ADMIN = {"Authorization": f"Bearer {REST_KEY}"}
V1 = "/admin/api/v1"


@pytest.fixture
def api(settings) -> Iterator[TestClient]:
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


def _counts(api: TestClient) -> dict[str, int]:
    return table_counts(api.app.state.grove.db.engine)


def test_rooms_list_settings_rooms_read_only_and_stored_rooms_after_them(api):
    created = api.post(
        f"{V1}/rooms/", json={"name": "lab9", "labels": ["ann", "bo"]}, headers=ADMIN
    )
    assert created.status_code == 200, created.text
    assert created.json() == {"name": "lab9", "created": True}
    rooms = api.get(f"{V1}/rooms/", headers=ADMIN).json()
    assert list(rooms)[-1] == "lab9"
    assert rooms["econ101"]["defined_in"] == "settings"
    lab = rooms["lab9"]
    assert lab["defined_in"] == "database"
    assert lab["labels"] == ["ann", "bo"]
    assert lab["url"] == "http://testserver/room/lab9/"
    assert (lab["session_code"], lab["waiting"]) == (None, [])
    assert api.get(f"{V1}/room/lab9", headers=ADMIN).json() == lab


def test_a_session_in_a_room_whom_participants_join_and_disassociate(api):
    api.post(f"{V1}/rooms/", json={"name": "lab9", "labels": ["ann", "bo"]}, headers=ADMIN)
    visitor = TestClient(api.app)
    waiting = visitor.post("/room/lab9/", data={"participant_label": "ann"})
    assert waiting.status_code == 200
    online = api.get(f"{V1}/room/lab9/online/", headers=ADMIN).json()
    assert online == {"name": "lab9", "session_code": None, "waiting": ["ann"], "num_waiting": 1}
    made = api.post(
        f"{V1}/room/lab9/session/",
        json={"config": "survey", "n_players": 2, "settings": {"participation_fee": 3}},
        headers=ADMIN,
    )
    assert made.status_code == 200, made.text
    sname = made.json()["sname"]
    assert made.json() == {"sname": sname, "roomname": "lab9", "created": True}
    joined = visitor.post("/room/lab9/", data={"participant_label": "ann"}, follow_redirects=False)
    assert joined.headers["location"].startswith("/InitializeParticipant/")
    assert api.get(f"{V1}/room/lab9/", headers=ADMIN).json()["session_code"] == sname
    conflict = assert_error_shape(
        api.patch(f"{V1}/room/lab9/", json={"labels": ["x"]}, headers=ADMIN), 409
    )
    assert "disassociate" in conflict["error"] or "close the room" in conflict["error"]
    assert_error_shape(api.delete(f"{V1}/room/lab9/", headers=ADMIN), 409)
    closed = api.post(f"{V1}/room/lab9/disassociate/", headers=ADMIN).json()
    assert closed == {"name": "lab9", "disassociated": True, "session_code": sname}
    assert api.get(f"{V1}/room/lab9/", headers=ADMIN).json()["session_code"] is None
    assert api.patch(f"{V1}/room/lab9/", json={"labels": ["x"]}, headers=ADMIN).json() == {
        "name": "lab9",
        "updated": True,
    }
    assert api.get(f"{V1}/room/lab9/", headers=ADMIN).json()["labels"] == ["x"]
    assert api.delete(f"{V1}/room/lab9/", headers=ADMIN).json() == {"name": "lab9", "deleted": True}
    assert_error_shape(api.get(f"{V1}/room/lab9/", headers=ADMIN), 404)
    assert visitor.get("/room/lab9/").status_code == 404


def test_a_session_in_a_room_with_its_code_and_labels_as_post_sessions_takes_them(api):
    made = api.post(
        f"{V1}/room/econ101/session/",
        json={"config": "survey", "sname": "mon-am", "unames": ["alice", "bob"]},
        headers=ADMIN,
    )
    assert made.json() == {"sname": "mon-am", "roomname": "econ101", "created": True}
    detail = api.get(f"{V1}/session/mon-am/", headers=ADMIN).json()
    assert detail["room"] == "econ101"
    before = _counts(api)
    taken = api.post(
        f"{V1}/room/econ101/session/", json={"config": "survey", "sname": "mon-am"}, headers=ADMIN
    )
    assert_error_shape(taken, 409)
    assert _counts(api) == before


def test_a_session_in_a_settings_room(api):
    made = api.post(
        f"{V1}/room/live_demo/session/", json={"config": "survey", "n_players": 1}, headers=ADMIN
    )
    assert made.status_code == 200, made.text
    assert (
        api.get(f"{V1}/room/live_demo/", headers=ADMIN).json()["session_code"]
        == (made.json()["sname"])
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "room/econ101/", {"display_name": "x"}),
        ("DELETE", "room/econ101/", None),
        ("POST", "rooms/", {"name": "econ101"}),
    ],
)
def test_settings_rooms_are_read_only_with_a_409_that_says_so(api, method, path, body):
    before = _counts(api)
    refused = assert_error_shape(api.request(method, f"{V1}/{path}", json=body, headers=ADMIN), 409)
    assert "settings.py" in refused["error"]
    assert _counts(api) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "room/nowhere/"),
        ("GET", "room/nowhere/online/"),
        ("PATCH", "room/nowhere/"),
        ("DELETE", "room/nowhere/"),
        ("POST", "room/nowhere/disassociate/"),
        ("POST", "room/nowhere/session/"),
    ],
)
def test_unknown_rooms_are_404_and_no_key_is_401(api, method, path):
    body = {"config": "survey", "n_players": 1} if path.endswith("session/") else None
    if method == "PATCH":
        body = {"display_name": "x"}
    before = _counts(api)
    assert_error_shape(api.request(method, f"{V1}/{path}", json=body, headers=ADMIN), 404)
    assert_error_shape(api.request(method, f"{V1}/{path}", json=body), 401)
    assert _counts(api) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "rooms/", {}),
        ("POST", "rooms/", {"name": "has space"}),
        ("POST", "rooms/", {"name": "ok", "labels": []}),
        ("POST", "rooms/", {"name": "ok", "labels": "ann"}),
        ("POST", "rooms/", {"name": "ok", "use_secure_urls": True}),
        ("POST", "rooms/", {"name": "ok", "capacity": 4}),
        ("POST", "rooms/", {"name": "ok", "display_name": "a\u0000b"}),
        ("PATCH", "room/lab8/", {"name": "other"}),
        ("PATCH", "room/lab8/", {"use_secure_urls": True}),
        ("PATCH", "room/lab8/", {"labels": [""]}),
        ("POST", "room/lab8/session/", {"n_players": 1}),
        ("POST", "room/lab8/session/", {"config": "survey", "sname": "no spaces"}),
        ("POST", "room/lab8/session/", {"config": "survey", "n_players": 2, "unames": ["a"]}),
        ("POST", "room/lab8/session/", {"config": "survey", "n_players": 0}),
        ("POST", "room/lab8/session/", {"config": "survey", "n_players": "many"}),
        ("POST", "room/lab8/session/", {"config": "survey", "n_players": 1, "settings": 3}),
        (
            "POST",
            "room/lab8/session/",
            {"config": "survey", "n_players": 1, "settings": {"participation_fee": "lots"}},
        ),
    ],
)
def test_bad_bodies_are_400_and_write_nothing(api, method, path, body):
    api.post(f"{V1}/rooms/", json={"name": "lab8"}, headers=ADMIN)
    before = _counts(api)
    assert_error_shape(api.request(method, f"{V1}/{path}", json=body, headers=ADMIN), 400)
    assert _counts(api) == before
    assert api.get(f"{V1}/room/lab8/", headers=ADMIN).json()["labels"] is None


def test_an_unknown_config_in_a_room_is_404(api):
    refused = api.post(
        f"{V1}/room/live_demo/session/", json={"config": "nope", "n_players": 1}, headers=ADMIN
    )
    assert_error_shape(refused, 404)


def test_a_taken_name_is_409(api):
    api.post(f"{V1}/rooms/", json={"name": "lab8"}, headers=ADMIN)
    before = _counts(api)
    assert_error_shape(api.post(f"{V1}/rooms/", json={"name": "lab8"}, headers=ADMIN), 409)
    assert _counts(api) == before


def _key(api: TestClient, user: str, scope: str) -> dict[str, str]:
    with api.app.state.grove.db.transaction() as db:
        return {"Authorization": f"Bearer {create_key(db, user, scope)}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "needed"),
    [
        ("POST", "rooms/", {"name": "lab7"}, "admin"),
        ("PATCH", "room/lab8/", {"display_name": "x"}, "admin"),
        ("DELETE", "room/lab8/", None, "admin"),
        ("POST", "room/lab8/disassociate/", None, "admin"),
        ("POST", "room/lab8/session/", {"config": "survey", "n_players": 1}, "write"),
    ],
)
def test_keys_below_the_scope_are_refused_with_403_and_nothing_written(
    api, method, path, body, needed
):
    api.post(f"{V1}/rooms/", json={"name": "lab8"}, headers=ADMIN)
    reader = _key(api, "reader", "read")
    below = [reader] if needed == "write" else [reader, _key(api, "writer", "write")]
    before = _counts(api)
    for headers in below:
        refused = api.request(method, f"{V1}/{path}", json=body, headers=headers)
        assert f"needs a {needed!r} key" in assert_error_shape(refused, 403)["error"]
    assert _counts(api) == before
    allowed = _key(api, "allowed", needed)
    assert api.request(method, f"{V1}/{path}", json=body, headers=allowed).status_code == 200


def test_a_read_key_reads_rooms(api):
    reader = _key(api, "reader", "read")
    assert "econ101" in api.get(f"{V1}/rooms/", headers=reader).json()
    assert api.get(f"{V1}/room/econ101/", headers=reader).status_code == 200
    assert api.get(f"{V1}/room/econ101/online/", headers=reader).status_code == 200


def test_the_rooms_list_and_create_need_a_key(api):
    before = _counts(api)
    assert_error_shape(api.get(f"{V1}/rooms/"), 401)
    assert_error_shape(api.post(f"{V1}/rooms/", json={"name": "lab7"}), 401)
    wrong = {"Authorization": "Bearer not-the-key"}
    assert_error_shape(api.post(f"{V1}/rooms/", json={"name": "lab7"}, headers=wrong), 401)
    assert _counts(api) == before
