"""The admin API's participants' actions over HTTP: POST /admin/api/v1/session/{sname}/players/
advance, revert, end, dropout, reload, redirect, message, on participant codes or labels.

Each answers the codes it applied to (under uproot's key names) and the unames it skipped with
the reason; an unknown session, or unames that name nobody, is a 404, a bad body a 400, no key
a 401, and none of them writes anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from server.models.core import Participant
from server.models.push import PushMessage
from tests.rest_helpers import HEADERS, REST_KEY, assert_error_shape, table_counts

ADMIN = {"Authorization": f"Bearer {REST_KEY}"}
V1 = "/admin/api/v1"
ACTIONS = {
    "advance": ("advanced", {}),
    "revert": ("reverted", {}),
    "end": ("ended", {}),
    "dropout": ("marked_dropout", {}),
    "reload": ("reloaded", {}),
    "redirect": ("redirected", {"url": "https://example.org/thanks?x=1"}),
    "message": ("messaged", {"message": "Please wait for the experimenter"}),
}


@pytest.fixture
def api(settings) -> Iterator[TestClient]:
    app = create_app(settings.with_changes(rest_key=REST_KEY, timeout_poll_seconds=3600.0))
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


def _session(api: TestClient, config: str = "prisoner", n: int = 4) -> tuple[str, list[str]]:
    created = api.post(
        "/api/sessions/",
        json={"session_config_name": config, "num_participants": n},
        headers=HEADERS,
    )
    assert created.status_code == 200, created.text
    code = created.json()["code"]
    detail = api.get(f"/api/sessions/{code}", headers=HEADERS).json()
    return code, [p["code"] for p in detail["participants"]]


def _act(api: TestClient, sname: str, action: str, body: Any, headers=ADMIN):
    return api.post(f"{V1}/session/{sname}/players/{action}/", json=body, headers=headers)


def _participants(api: TestClient) -> dict[str, tuple[int, bool, bool]]:
    with api.app.state.grove.db.read() as db:
        return {
            p.code: (p.index_in_pages, p.finished, p.is_dropout)
            for p in db.scalars(sa.select(Participant))
        }


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_answers_what_it_applied_to_and_what_it_skipped(api, action):
    sname, codes = _session(api)
    if action == "revert":
        _act(api, sname, "advance", {"unames": codes})  # on Decision: nothing to go back to
        _act(api, sname, "advance", {"unames": codes[:1]})  # P1 waits alone: may go back
    done, extra = ACTIONS[action]
    response = _act(api, sname, action, {"unames": [codes[0], "nobody"], **extra})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body[done] == [codes[0]]
    assert body["skipped"] == [
        {"uname": "nobody", "reason": "no participant with this code or label here"}
    ]
    if action == "redirect":
        assert body["url"] == extra["url"]
    if action in ("advance", "revert", "end"):
        expected = {"advance": "Decision", "revert": "Decision", "end": "finished"}[action]
        assert body["positions"] == {codes[0]: expected}


def test_advance_revert_end_and_dropout_change_where_participants_are(api):
    sname, codes = _session(api)
    _act(api, sname, "advance", {"unames": codes})
    first = _participants(api)[codes[0]][0]
    refused = _act(api, sname, "revert", {"unames": codes[:1]}).json()
    assert refused["reverted"] == []
    assert "first page of prisoner round 1" in refused["skipped"][0]["reason"]
    ended = _act(api, sname, "end", {"unames": codes[1:2]}).json()
    assert ended["ended"] == [codes[1]]
    assert _participants(api)[codes[1]][1] is True
    again = _act(api, sname, "end", {"unames": codes[1:2]}).json()
    assert again["skipped"] == [{"uname": codes[1], "reason": "already finished"}]
    marked = _act(api, sname, "dropout", {"unames": codes[2:]}).json()
    assert marked["marked_dropout"] == codes[2:]
    state = _participants(api)
    assert [state[c][2] for c in codes] == [False, False, True, True]
    monitor = api.get(f"/SessionMonitor/{sname}")  # the sample project's admin is open
    assert monitor.status_code == 200
    assert monitor.text.count("(dropped out)") == 2
    assert state[codes[0]][0] == first  # nobody else moved


def test_unames_may_be_labels(api):
    sname, codes = _session(api)
    with api.app.state.grove.db.transaction() as db:
        db.execute(sa.update(Participant).where(Participant.code == codes[2]).values(label="lab-7"))
    body = _act(api, sname, "advance", {"unames": ["lab-7"]}).json()
    assert body["advanced"] == [codes[2]]


def test_page_commands_reach_the_participants_page_channel(api):
    sname, codes = _session(api)
    _act(api, sname, "redirect", {"unames": codes[:2], "url": "https://example.org/done"})
    _act(api, sname, "message", {"unames": codes[:1], "message": "<b>hi</b>"})
    with api.app.state.grove.db.read() as db:
        bodies = db.scalars(sa.select(PushMessage).order_by(PushMessage.id))
        sent = [(m.channel, json.loads(m.body)) for m in bodies]
    sent = [(channel, body) for channel, body in sent if "command" in body]
    commands = [(channel, body["command"]) for channel, body in sent]
    assert commands == [
        (f"page:{codes[0]}", "redirect"),
        (f"page:{codes[1]}", "redirect"),
        (f"page:{codes[0]}", "message"),
    ]
    assert sent[2][1]["text"] == "<b>hi</b>"  # the page shows it as text


@pytest.mark.parametrize("action", ACTIONS)
def test_refusals_write_nothing(api, action):
    sname, codes = _session(api)
    _other, other_codes = _session(api, "survey", 1)
    engine = api.app.state.grove.db.engine
    before = table_counts(engine)
    states = _participants(api)
    _done, extra = ACTIONS[action]
    assert_error_shape(_act(api, sname, action, {"unames": codes}, headers={}), 401)
    wrong = {"Authorization": "Bearer not-the-key"}
    assert_error_shape(_act(api, sname, action, {"unames": codes}, headers=wrong), 401)
    assert_error_shape(_act(api, "nosuchsession", action, {"unames": codes, **extra}), 404)
    nobody = _act(api, sname, action, {"unames": [*other_codes, "nobody"], **extra})
    assert_error_shape(nobody, 404)
    for body in (
        {},
        {"unames": []},
        {"unames": codes[0]},
        {"unames": [""]},
        {"unames": [1, 2]},
        {"unames": ["x" * 256]},
        {"unames": codes, "color": "red", **extra},
    ):
        assert_error_shape(_act(api, sname, action, body), 400)
    assert table_counts(engine) == before
    assert _participants(api) == states


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("redirect", {}, "url"),
        ("redirect", {"url": "javascript:alert(1)"}, "url"),
        ("redirect", {"url": "/p/relative"}, "url"),
        ("redirect", {"url": "//example.org/x"}, "url"),
        ("redirect", {"url": "ftp://example.org/x"}, "url"),
        ("redirect", {"url": 5}, "url"),
        ("message", {}, "message"),
        ("message", {"message": "   "}, "message"),
        ("message", {"message": "x" * 2001}, "message"),
    ],
)
def test_a_bad_url_or_message_is_a_400_naming_it(api, action, body, field):
    sname, codes = _session(api, "survey", 1)
    before = table_counts(api.app.state.grove.db.engine)
    refused = assert_error_shape(_act(api, sname, action, {"unames": codes, **body}), 400)
    assert [e["field"] for e in refused["errors"]] == [field]
    assert table_counts(api.app.state.grove.db.engine) == before


def test_the_actions_are_in_the_openapi_document_with_the_admin_scope(api):
    spec = api.get("/api/openapi.json").json()
    for action in ACTIONS:
        operation = spec["paths"][f"{V1}/session/{{sname}}/players/{action}/"]["post"]
        assert operation["x-required-scope"] == "admin"
        assert "404" in operation["responses"]


def _key(api: TestClient, user: str, scope: str) -> dict[str, str]:
    with api.app.state.grove.db.transaction() as db:
        return {"Authorization": f"Bearer {create_key(db, user, scope)}"}


@pytest.mark.parametrize("action", ACTIONS)
def test_read_and_write_keys_are_refused_with_403_and_nothing_written(api, action):
    sname, codes = _session(api)
    _done, extra = ACTIONS[action]
    keys = [_key(api, "reader", "read"), _key(api, "writer", "write")]
    before = table_counts(api.app.state.grove.db.engine)
    states = _participants(api)
    for headers in keys:
        refused = _act(api, sname, action, {"unames": codes, **extra}, headers=headers)
        assert "needs a 'admin' key" in assert_error_shape(refused, 403)["error"]
    assert table_counts(api.app.state.grove.db.engine) == before
    assert _participants(api) == states
    admin = _key(api, "boss", "admin")
    assert _act(api, sname, action, {"unames": codes, **extra}, headers=admin).status_code == 200


def _commands(api: TestClient, code: str) -> list[str]:
    with api.app.state.grove.db.read() as db:
        bodies = db.scalars(
            sa.select(PushMessage.body).where(PushMessage.channel == f"page:{code}")
        )
        return [json.loads(body).get("command", "") for body in bodies]


@pytest.mark.parametrize("action", ["advance", "revert", "end"])
def test_a_moved_participants_open_page_is_reloaded(api, action):
    sname, codes = _session(api)
    if action == "revert":
        _act(api, sname, "advance", {"unames": codes[:1]})
        _act(api, sname, "advance", {"unames": codes[:1]})  # waits alone: may go back
    before = _commands(api, codes[0]).count("reload")
    assert _act(api, sname, action, {"unames": codes[:1]}).json()["skipped"] == []
    assert _commands(api, codes[0]).count("reload") == before + 1
    assert "reload" not in _commands(api, codes[1])
