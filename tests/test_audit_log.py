"""The audit log (REDCap's "Logging"): every change made over the admin API, in the admin area
or with a command leaves exactly one row per thing changed, naming who made it (the API key's
user, the admin's login name, ``cli``); a refused change leaves none. Read back over
``GET /admin/api/v1/log/`` and on the admin area's Log page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.audit_log import CLI
from server.cli.apikey_commands import apikey
from server.models.audit_log import AuditEntry
from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.admin_pages import form_with_action, log_in, submit_form
from tests.rest_helpers import assert_error_shape

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api
scoped = admin_api_helpers.scoped

STUDY_CONFIG = {"treatments": ["A", "B"], "factors": {"sex": ["f", "m"]}, "starting_seed": 7}


def log_rows(client: TestClient) -> list[AuditEntry]:
    """Every row of the log, oldest first (read from the database, not the API)."""
    with client.app.state.grove.db.read() as db:  # type: ignore[attr-defined]
        rows = db.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        db.expunge_all()
        return list(rows)


def new_session(api: TestClient, n: int = 2, **body: Any) -> tuple[str, list[str]]:
    made = api.post(
        f"{V1}/sessions/", json={"config": "prisoner", "n_players": n, **body}, headers=ADMIN
    )
    assert made.status_code == 200, made.text
    sname = made.json()["sname"]
    detail = api.get(f"{V1}/session/{sname}/", headers=ADMIN).json()
    return sname, [p["code"] for p in detail["participants"]]


# (method, path after /session/{sname}/, body, action, participant-level?)
SESSION_CHANGES = [
    ("PATCH", "description/", {"description": "pilot"}, "session.description", False),
    ("PATCH", "archived/", {"archived": True}, "session.archive", False),
    ("PATCH", "active/", {}, "session.archive", False),
    ("PATCH", "settings/", {"settings": {"participation_fee": 2.5}}, "session.settings", False),
    ("DELETE", "", None, "session.delete", False),
    ("POST", "players/advance/", {"unames": ["{p0}"]}, "participant.advance", True),
    ("POST", "players/end/", {"unames": ["{p0}"]}, "participant.end", True),
    ("POST", "players/dropout/", {"unames": ["{p0}"]}, "participant.dropout", True),
    ("POST", "players/reload/", {"unames": ["{p0}"]}, "participant.reload", True),
    (
        "POST",
        "players/redirect/",
        {"unames": ["{p0}"], "url": "https://example.org/x"},
        "participant.redirect",
        True,
    ),
    (
        "POST",
        "players/message/",
        {"unames": ["{p0}"], "message": "hi"},
        "participant.message",
        True,
    ),
    (
        "PATCH",
        "players/fields/",
        {"unames": ["{p0}"], "fields": {"treatment": "T1"}},
        "participant.fields",
        True,
    ),
]


def _fill(body: Any, first: str) -> Any:
    if isinstance(body, dict):
        return {key: _fill(value, first) for key, value in body.items()}
    if isinstance(body, list):
        return [_fill(value, first) for value in body]
    return first if body == "{p0}" else body


@pytest.mark.parametrize(
    ("method", "path", "body", "action", "of_participant"),
    SESSION_CHANGES,
    ids=[change[3] + ":" + change[1] for change in SESSION_CHANGES],
)
def test_each_session_change_over_the_api_leaves_one_row_with_the_keys_user(
    api, scoped, method, path, body, action, of_participant
):
    sname, codes = new_session(api)
    before = len(log_rows(api))
    done = api.request(
        method, f"{V1}/session/{sname}/{path}", json=_fill(body, codes[0]), headers=scoped["admin"]
    )
    assert done.status_code == 200, done.text
    rows = log_rows(api)[before:]
    assert [(r.who, r.action, r.session_code) for r in rows] == [("admin_user", action, sname)]
    assert rows[0].participant_code == (codes[0] if of_participant else None)
    assert rows[0].at is not None


def test_revert_is_logged_with_the_pages_from_and_to(api, scoped):
    sname, codes = new_session(api)
    for unames in (codes, codes[:1]):  # all on Decision; the first waits alone after it
        api.post(f"{V1}/session/{sname}/players/advance/", json={"unames": unames}, headers=ADMIN)
    before = len(log_rows(api))
    back = api.post(
        f"{V1}/session/{sname}/players/revert/", json={"unames": codes[:1]}, headers=scoped["admin"]
    )
    assert back.json()["reverted"] == codes[:1], back.text
    [row] = log_rows(api)[before:]
    assert (row.who, row.action, row.participant_code) == (
        "admin_user",
        "participant.revert",
        codes[0],
    )
    assert row.details["from"] != row.details["to"]


def test_an_action_on_several_participants_logs_one_row_each_and_none_for_the_skipped(api):
    sname, codes = new_session(api, n=4)
    api.post(f"{V1}/session/{sname}/players/end/", json={"unames": codes[:1]}, headers=ADMIN)
    before = len(log_rows(api))
    ended = api.post(
        f"{V1}/session/{sname}/players/end/", json={"unames": [*codes[:3], "nobody"]}, headers=ADMIN
    ).json()
    assert ended["ended"] == codes[1:3]
    rows = log_rows(api)[before:]
    assert [(r.who, r.participant_code) for r in rows] == [
        ("otree-rest-key", codes[1]),
        ("otree-rest-key", codes[2]),
    ]


def test_creating_sessions_rooms_and_studies_is_logged_with_the_keys_user(api, scoped):
    before = len(log_rows(api))
    made = api.post(
        f"{V1}/sessions/", json={"config": "survey", "n_players": 1}, headers=scoped["write"]
    )
    sname = made.json()["sname"]
    in_room = api.post(
        f"{V1}/room/econ101/session/",
        json={"config": "survey", "n_players": 1},
        headers=scoped["write"],
    )
    oTree_style = api.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 1},
        headers=scoped["write"],
    )
    admin = scoped["admin"]
    assert api.post(f"{V1}/rooms/", json={"name": "lab7"}, headers=admin).status_code == 200
    assert api.patch(f"{V1}/room/lab7/", json={"labels": ["a"]}, headers=admin).status_code == 200
    assert api.delete(f"{V1}/room/lab7/", headers=admin).status_code == 200
    assert api.post(f"{V1}/room/econ101/disassociate/", headers=admin).status_code == 200
    study = api.post(
        f"{V1}/studies/", json={"name": "Trial 2", "config": STUDY_CONFIG}, headers=scoped["write"]
    )
    assert study.status_code == 200, study.text
    rows = [
        (r.who, r.action, r.session_code, r.room_name, r.study_name) for r in log_rows(api)[before:]
    ]
    assert rows == [
        ("write_user", "session.create", sname, None, None),
        ("write_user", "session.create", in_room.json()["sname"], "econ101", None),
        ("write_user", "session.create", oTree_style.json()["code"], None, None),
        ("admin_user", "room.create", None, "lab7", None),
        ("admin_user", "room.update", None, "lab7", None),
        ("admin_user", "room.delete", None, "lab7", None),
        ("admin_user", "room.close", in_room.json()["sname"], "econ101", None),
        ("write_user", "study.create", None, None, "Trial 2"),
    ]
    study_row = log_rows(api)[-1]
    assert "starting_seed" not in str(study_row.details)  # never the seed
    assert study_row.details["treatments"] == ["A", "B"]


@pytest.mark.parametrize(
    ("method", "path", "body", "key", "status"),
    [
        ("PATCH", "session/{sname}/description/", {"description": 5}, "admin", 400),
        (
            "PATCH",
            "session/{sname}/settings/",
            {"settings": {"participation_fee": "x"}},
            "admin",
            400,
        ),
        ("PATCH", "session/{sname}/archived/", {"archived": True}, "write", 403),
        ("DELETE", "session/{sname}/", None, "read", 403),
        ("POST", "session/{sname}/players/end/", {"unames": ["{p0}"]}, "write", 403),
        ("POST", "session/nosuch/players/end/", {"unames": ["x"]}, "admin", 404),
        ("POST", "session/{sname}/players/end/", {"unames": ["nobody"]}, "admin", 404),
        ("DELETE", "session/nosuch/", None, "admin", 404),
        (
            "POST",
            "session/{sname}/players/redirect/",
            {"unames": ["{p0}"], "url": "ftp://x"},
            "admin",
            400,
        ),
        (
            "PATCH",
            "session/{sname}/players/fields/",
            {"unames": ["{p0}"], "fields": {"nope": 1}},
            "admin",
            400,
        ),
        ("POST", "sessions/", {"config": "survey", "sname": "{sname}"}, "admin", 409),
        ("POST", "rooms/", {"name": "econ101"}, "admin", 409),
        ("POST", "studies/", {"name": "My Study", "config": STUDY_CONFIG}, "admin", 409),
        ("DELETE", "room/nowhere/", None, "admin", 404),
    ],
)
def test_a_refused_change_leaves_no_row(api, scoped, method, path, body, key, status):
    sname, codes = new_session(api)
    before = len(log_rows(api))
    url = f"{V1}/" + path.replace("{sname}", sname)
    payload = _fill(body, codes[0])
    if isinstance(payload, dict) and payload.get("sname") == "{sname}":
        payload["sname"] = sname
    assert_error_shape(api.request(method, url, json=payload, headers=scoped[key]), status)
    assert len(log_rows(api)) == before


def test_the_log_endpoint_filters_and_pages_newest_first(api, scoped):
    first, codes = new_session(api)
    second, _ = new_session(api)
    api.patch(f"{V1}/session/{first}/description/", json={"description": "a"}, headers=ADMIN)
    api.patch(f"{V1}/session/{second}/archived/", json={"archived": True}, headers=scoped["admin"])
    api.post(f"{V1}/session/{first}/players/reload/", json={"unames": codes}, headers=ADMIN)

    everything = api.get(f"{V1}/log/", headers=scoped["admin"])
    assert everything.status_code == 200, everything.text
    body = everything.json()
    assert body["total"] == 6
    assert body["next_page"] is None
    assert [e["action"] for e in body["entries"]] == [
        "participant.reload",
        "participant.reload",
        "session.archive",
        "session.description",
        "session.create",
        "session.create",
    ]
    archive = body["entries"][2]
    assert archive["who"] == "admin_user"
    assert archive["session"] == second
    assert archive["details"] == {"archived": True}
    assert archive["at"].endswith("Z")

    of_first = api.get(f"{V1}/log/", params={"session": first}, headers=ADMIN).json()
    assert {e["session"] for e in of_first["entries"]} == {first}
    assert of_first["total"] == 4
    family = api.get(f"{V1}/log/", params={"action": "session"}, headers=ADMIN).json()
    assert [e["action"] for e in family["entries"]] == [
        "session.archive",
        "session.description",
        "session.create",
        "session.create",
    ]
    exact = api.get(f"{V1}/log/", params={"action": "session.archive"}, headers=ADMIN).json()
    assert exact["total"] == 1
    assert api.get(f"{V1}/log/", params={"action": "sess"}, headers=ADMIN).json()["total"] == 0

    paged = api.get(f"{V1}/log/", params={"per_page": 4}, headers=ADMIN).json()
    assert (len(paged["entries"]), paged["next_page"], paged["total"]) == (4, 2, 6)
    rest = api.get(f"{V1}/log/", params={"per_page": 4, "page": 2}, headers=ADMIN).json()
    assert [e["id"] for e in paged["entries"] + rest["entries"]] == [
        e["id"] for e in body["entries"]
    ]

    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert api.get(f"{V1}/log/", params={"since": future}, headers=ADMIN).json()["total"] == 0
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert api.get(f"{V1}/log/", params={"since": past}, headers=ADMIN).json()["total"] == 6


def test_the_log_endpoint_needs_an_admin_key_and_good_parameters(api, scoped):
    assert_error_shape(api.get(f"{V1}/log/"), 401)
    assert_error_shape(api.get(f"{V1}/log/", headers=scoped["read"]), 403)
    assert_error_shape(api.get(f"{V1}/log/", headers=scoped["write"]), 403)
    for bad in ({"since": "yesterday"}, {"page": 0}, {"per_page": 501}, {"colour": "red"}):
        assert_error_shape(api.get(f"{V1}/log/", params=bad, headers=ADMIN), 400)


@pytest.fixture
def admin_client(settings) -> TestClient:
    app = create_app(settings.with_changes(admin_password="pw", admin_username="alice"))
    with TestClient(app) as client:
        log_in(client, "pw", "alice")
        yield client
    app.state.grove.db.dispose()


def test_the_admin_areas_changes_are_logged_with_the_admins_name(admin_client):
    client = admin_client
    made = submit_form(
        client, "/sessions/create?config=prisoner", "/sessions/create", {"num_participants": "2"}
    )
    assert made.status_code == 303, made.text
    code = made.headers["location"].rsplit("/", 1)[1]
    links = f"/SessionStartLinks/{code}"
    assert (
        submit_form(
            client, links, f"/sessions/{code}/description", {"description": "d"}
        ).status_code
        == 303
    )
    monitor = client.get(f"/SessionMonitor/{code}").text
    participant = monitor.split('name="advance:', 1)[1].split('"', 1)[0]
    advanced = submit_form(
        client,
        f"/SessionMonitor/{code}",
        f"/SessionMonitor/{code}/advance",
        {f"advance:{participant}": True},
    )
    assert advanced.status_code == 303
    assert (
        submit_form(client, "/apikeys", "/apikeys", {"user": "bob", "scope": "read"}).status_code
        == 200
    )
    assert (
        submit_form(client, "/apikeys", "/apikeys/bob/scope", {"scope": "write"}).status_code == 303
    )
    assert (
        submit_form(
            client, "/rooms", "/rooms/econ101", {"config": "survey", "num_participants": "1"}
        ).status_code
        == 303
    )
    assert (
        submit_form(client, f"/sessions/{code}/delete", f"/sessions/{code}/delete").status_code
        == 303
    )

    rows = log_rows(client)
    assert {r.who for r in rows} == {"alice"}
    assert [r.action for r in rows] == [
        "session.create",
        "session.description",
        "participant.advance",
        "key.create",
        "key.scope",
        "session.create",
        "session.delete",
    ]
    assert rows[2].participant_code == participant
    assert rows[3].details == {"user": "bob", "scope": "read"}  # never the key

    page = client.get("/log", params={"session": code})
    assert page.status_code == 200
    assert page.text.count("<td>alice</td>") == 4
    assert "session.delete" in page.text
    assert "key.scope" not in page.text
    assert client.get("/log", params={"action": "key"}).text.count("<td>alice</td>") == 2
    assert client.get("/log", params={"since": "soon"}).status_code == 400


def test_the_log_page_needs_the_admin_login(settings):
    app = create_app(settings.with_changes(admin_password="pw"))
    with TestClient(app) as client:
        refused = client.get("/log", follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/login")
    app.state.grove.db.dispose()


def test_without_a_login_the_admin_area_logs_admin(client):
    made = client.post(
        "/api/sessions/", json={"session_config_name": "survey", "num_participants": 1}
    )
    code = made.json()["code"]
    archived = submit_form(client, "/sessions", f"/sessions/{code}/archive")
    assert archived.status_code == 303
    assert [(r.who, r.action) for r in log_rows(client)] == [
        ("anonymous", "session.create"),
        ("admin", "session.archive"),
    ]


def test_commands_log_cli(settings, monkeypatch, api):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    import argparse

    apikey(argparse.Namespace(action="create", user="carol", scope="read"))
    apikey(argparse.Namespace(action="revoke", user="carol", scope=None))
    assert [(r.who, r.action, r.details) for r in log_rows(api)] == [
        (CLI, "key.create", {"user": "carol", "scope": "read"}),
        (CLI, "key.revoke", {"user": "carol"}),
    ]


def test_vars_posts_are_logged_with_the_keys_user_and_the_names_only(api, scoped):
    sname, codes = new_session(api, room="econ101", unames=["ann", "bob"])
    write = scoped["write"]
    before = len(log_rows(api))
    posts = [
        (
            "/api/participant_vars/",
            {"room_name": "econ101", "participant_label": "ann", "vars": {"age": 31}},
        ),
        (
            "/api/participant_vars/",
            {"room_name": "econ101", "participant_label": "zed", "vars": {"age": 40}},
        ),
        (f"/api/participant_vars/{codes[1]}", {"vars": {"email": "b@example.org"}}),
        ("/api/session_vars/", {"room_name": "econ101", "vars": {"batch": 1}}),
        (f"/api/session_vars/{sname}", {"vars": {"batch": 2}}),
    ]
    for path, body in posts:
        answer = api.post(path, json=body, headers=write)
        assert answer.status_code == 200, answer.text
    rows = [
        (r.who, r.action, r.session_code, r.participant_code, r.room_name, r.details)
        for r in log_rows(api)[before:]
    ]
    assert rows == [
        ("write_user", "participant.vars", sname, codes[0], "econ101", {"vars": ["age"]}),
        (
            "write_user",
            "participant.vars",
            None,
            None,
            "econ101",
            {"vars": ["age"], "pending_for_label": "zed"},
        ),
        ("write_user", "participant.vars", sname, codes[1], None, {"vars": ["email"]}),
        ("write_user", "session.vars", sname, None, "econ101", {"vars": ["batch"]}),
        ("write_user", "session.vars", sname, None, None, {"vars": ["batch"]}),
    ]
    refused = api.post(f"/api/participant_vars/{codes[1]}", json={"vars": [1]}, headers=write)
    assert_error_shape(refused, 400)
    unknown = api.post("/api/session_vars/nosuch", json={"vars": {"a": 1}}, headers=write)
    assert unknown.status_code == 404
    # No participant with the code: nothing logged (on PostgreSQL the lock and the log's
    # INSERT are one statement, which inserts nothing then).
    nobody = api.post("/api/participant_vars/nosuch", json={"vars": {"a": 1}}, headers=write)
    assert nobody.status_code == 404
    read_only = api.post(
        f"/api/session_vars/{sname}", json={"vars": {"a": 1}}, headers=scoped["read"]
    )
    assert read_only.status_code == 403
    assert len(log_rows(api)) == before + len(posts)


def test_log_bounds_page_and_since_offsets(api):
    new_session(api)  # one row: its creation
    for bad in (
        {"page": 10**20},
        {"page": 1_000_000_001},
        {"since": "9999-12-31T23:00:00-05:00"},
        {"since": "0001-01-01T00:00:00+05:00"},
    ):
        assert_error_shape(api.get(f"{V1}/log/", params=bad, headers=ADMIN), 400)
    # JSON's true is no page number (it read as page 1), as on GET sessions/.
    for bad_json in ({"page": True}, {"per_page": True}):
        answer = api.request("GET", f"{V1}/log/", json=bad_json, headers=ADMIN)
        assert "must be an integer" in assert_error_shape(answer, 400)["error"]
    assert api.get(f"{V1}/log/", params={"page": 10**9}, headers=ADMIN).json()["entries"] == []
    # An offset means that moment: one hour ago, said in UTC+05:00.
    now = dt.datetime.now(dt.UTC)
    east = dt.timezone(dt.timedelta(hours=5))
    hour_ago = (now - dt.timedelta(hours=1)).astimezone(east).isoformat()
    hour_ahead = (now + dt.timedelta(hours=1)).astimezone(east).isoformat()
    assert api.get(f"{V1}/log/", params={"since": hour_ago}, headers=ADMIN).json()["total"] == 1
    assert api.get(f"{V1}/log/", params={"since": hour_ahead}, headers=ADMIN).json()["total"] == 0


def test_a_sessions_log_tab_shows_its_changes_only(admin_client):
    client = admin_client
    codes = []
    for _ in range(2):
        made = submit_form(
            client,
            "/sessions/create?config=survey",
            "/sessions/create",
            {"num_participants": "1"},
        )
        codes.append(made.headers["location"].rsplit("/", 1)[1])
    submit_form(
        client,
        f"/SessionStartLinks/{codes[0]}",
        f"/sessions/{codes[0]}/description",
        {"description": "first"},
    )
    links = client.get(f"/SessionStartLinks/{codes[0]}").text
    assert f'href="/SessionLog/{codes[0]}"' in links  # a tab like the others
    tab = client.get(f"/SessionLog/{codes[0]}")
    assert tab.status_code == 200
    assert tab.text.count("<td>alice</td>") == 2
    assert "session.description" in tab.text
    assert codes[1] not in tab.text
    assert 'aria-current="page" href="/SessionLog/' in tab.text
    assert client.get("/SessionLog/nosuch").status_code == 404
    assert client.get(f"/SessionLog/{codes[0]}", params={"page": "x"}).status_code == 400
    client.cookies.clear()
    refused = client.get(f"/SessionLog/{codes[0]}", follow_redirects=False)
    assert refused.status_code == 303


def test_the_admin_areas_key_and_room_changes_are_logged_and_a_refused_one_is_not(admin_client):
    client = admin_client
    submit_form(client, "/apikeys", "/apikeys", {"user": "dan"})
    assert submit_form(client, "/apikeys", "/apikeys/dan/regenerate").status_code == 200
    scope_form = dict(
        form_with_action(client.get("/apikeys").text, "/apikeys/dan/scope").submission()
    )
    bad_scope = client.post("/apikeys/dan/scope", data={**scope_form, "scope": "root"})
    assert bad_scope.status_code == 400  # a scope the page does not offer
    assert submit_form(client, "/apikeys", "/apikeys/dan/revoke").status_code == 303
    room_form = {"config": "survey", "num_participants": "1"}
    assert submit_form(client, "/rooms", "/rooms/econ101", room_form).status_code == 303
    assert submit_form(client, "/rooms", "/rooms/econ101").status_code == 303  # now: close
    forged = submit_form(client, "/apikeys", "/apikeys", {"user": "eve"}, csrf_token="forged")
    assert forged.status_code == 403
    rows = log_rows(client)
    assert [(r.who, r.action, r.room_name) for r in rows] == [
        ("alice", "key.create", None),
        ("alice", "key.regenerate", None),
        ("alice", "key.revoke", None),
        ("alice", "session.create", "econ101"),
        ("alice", "room.close", "econ101"),
    ]
    assert rows[4].session_code == rows[3].session_code
