"""uproot's ``PATCH /admin/api/v1/session/{sname}/players/fields/`` over HTTP: set participant
fields (settings.PARTICIPANT_FIELDS, kept in participant.vars as the vars API keeps them, and
``label``) on participants named by code or label; ``reload`` reloads their open pages.

It answers as the other participants' actions do (``updated``, ``fields``, ``skipped``);
an undeclared field, a bad label or a bad body is a 400, an unknown session or unames that
name nobody a 404, no key a 401, a read or write key a 403, and none of them writes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.models.core import Participant
from server.models.push import PushMessage
from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.rest_helpers import HEADERS, assert_error_shape, table_counts

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api
scoped = admin_api_helpers.scoped


def _session(api: TestClient, n: int = 4) -> tuple[str, list[str]]:
    made = api.post(f"{V1}/sessions/", json={"config": "prisoner", "n_players": n}, headers=ADMIN)
    assert made.status_code == 200, made.text
    sname = made.json()["sname"]
    detail = api.get(f"{V1}/session/{sname}/", headers=ADMIN).json()
    return sname, [p["code"] for p in detail["participants"]]


def _patch(api: TestClient, sname: str, body: Any, headers: dict[str, str] = ADMIN):
    return api.patch(f"{V1}/session/{sname}/players/fields/", json=body, headers=headers)


def _state(api: TestClient) -> dict[str, tuple[str | None, dict[str, Any]]]:
    with api.app.state.grove.db.read() as db:
        return {p.code: (p.label, dict(p.vars or {})) for p in db.scalars(sa.select(Participant))}


def _commands(api: TestClient) -> list[tuple[str, str]]:
    with api.app.state.grove.db.read() as db:
        messages = db.scalars(sa.select(PushMessage).order_by(PushMessage.id))
        sent = [(m.channel, json.loads(m.body)) for m in messages]
    return [(channel, body["command"]) for channel, body in sent if "command" in body]


def test_fields_are_set_on_the_named_participants_as_the_vars_api_sets_them(api, scoped):
    sname, codes = _session(api)
    done = _patch(
        api,
        sname,
        {"unames": [*codes[:2], "nobody"], "fields": {"treatment": "T1"}},
        scoped["admin"],
    )
    assert done.status_code == 200, done.text
    assert done.json() == {
        "updated": codes[:2],
        "fields": ["treatment"],
        "skipped": [{"uname": "nobody", "reason": "no participant with this code or label here"}],
    }
    state = _state(api)
    assert [state[c][1].get("treatment") for c in codes] == ["T1", "T1", None, None]
    assert _commands(api) == []  # no reload unless asked

    # The same value through the vars API lands in the same place.
    by_vars = api.post(
        f"/api/participant_vars/{codes[2]}", json={"vars": {"treatment": "T1"}}, headers=HEADERS
    )
    assert by_vars.status_code == 200, by_vars.text
    assert _state(api)[codes[2]][1] == state[codes[0]][1]

    players = api.get(
        f"{V1}/session/{sname}/players/", params={"fields": "vars"}, headers=ADMIN
    ).json()
    assert players[codes[0]]["vars"]["treatment"] == "T1"


def test_a_label_is_set_then_names_the_participant_and_reload_reloads(api):
    sname, codes = _session(api)
    labelled = _patch(
        api, sname, {"unames": [codes[1]], "fields": {"label": "  ann ", "treatment": 2}}
    )
    assert labelled.json()["updated"] == [codes[1]], labelled.text
    assert _state(api)[codes[1]] == ("ann", {"treatment": 2})
    by_label = _patch(api, sname, {"unames": ["ann"], "fields": {"treatment": 3}, "reload": True})
    assert by_label.json() == {"updated": [codes[1]], "fields": ["treatment"], "skipped": []}
    assert _state(api)[codes[1]] == ("ann", {"treatment": 3})
    assert _commands(api) == [(f"page:{codes[1]}", "reload")]
    taken = _patch(api, sname, {"unames": [codes[0]], "fields": {"label": "ann"}}).json()
    assert taken["updated"] == []
    assert "has the label 'ann'" in taken["skipped"][0]["reason"]
    cleared = _patch(api, sname, {"unames": ["ann"], "fields": {"label": None}})
    assert cleared.json()["updated"] == [codes[1]]
    assert _state(api)[codes[1]][0] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"unames": ["{p0}"]},
        {"fields": {"treatment": 1}},
        {"unames": [], "fields": {"treatment": 1}},
        {"unames": "{p0}", "fields": {"treatment": 1}},
        {"unames": ["{p0}"], "fields": {}},
        {"unames": ["{p0}"], "fields": ["treatment"]},
        {"unames": ["{p0}"], "fields": {"nickname": "x"}},  # not in PARTICIPANT_FIELDS
        {"unames": ["{p0}"], "fields": {"treatment": 1, "code": "x"}},
        {"unames": ["{p0}"], "fields": {"label": ""}},
        {"unames": ["{p0}"], "fields": {"label": 5}},
        {"unames": ["{p0}"], "fields": {"label": "x" * 201}},
        {"unames": ["{p0}", "{p1}"], "fields": {"label": "same"}},
        {"unames": ["{p0}"], "fields": {"treatment": 1}, "reload": "soon"},
        {"unames": ["{p0}"], "fields": {"treatment": 1}, "colour": "red"},
    ],
)
def test_a_bad_body_is_a_400_and_writes_nothing(api, body):
    sname, codes = _session(api)
    filled = json.loads(json.dumps(body).replace("{p0}", codes[0]).replace("{p1}", codes[1]))
    engine = api.app.state.grove.db.engine
    before, states = table_counts(engine), _state(api)
    assert_error_shape(_patch(api, sname, filled), 400)
    assert table_counts(engine) == before
    assert _state(api) == states


def test_an_undeclared_field_is_refused_naming_the_declared_ones(api):
    sname, codes = _session(api)
    refused = assert_error_shape(
        _patch(api, sname, {"unames": codes[:1], "fields": {"nickname": "x"}}), 400
    )
    assert "'nickname' is not a participant field" in refused["error"]
    assert "treatment" in refused["error"]
    assert [e["field"] for e in refused["errors"]] == ["fields"]


def test_refusals_by_key_and_unknowns_write_nothing(api, scoped):
    sname, codes = _session(api)
    _other, other_codes = _session(api, 2)
    engine = api.app.state.grove.db.engine
    before, states = table_counts(engine), _state(api)
    body = {"unames": codes, "fields": {"treatment": "T"}}
    assert_error_shape(_patch(api, sname, body, headers={}), 401)
    assert_error_shape(_patch(api, sname, body, headers={"Authorization": "Bearer no"}), 401)
    assert_error_shape(_patch(api, sname, body, headers=scoped["read"]), 403)
    assert_error_shape(_patch(api, sname, body, headers=scoped["write"]), 403)
    assert_error_shape(_patch(api, "nosuchsession", body), 404)
    nobody = {"unames": [*other_codes, "nobody"], "fields": {"treatment": "T"}}
    assert_error_shape(_patch(api, sname, nobody), 404)
    assert table_counts(engine) == before
    assert _state(api) == states


def test_it_is_in_the_openapi_document_with_the_admin_scope(api):
    spec = api.get("/api/openapi.json").json()
    operation = spec["paths"][f"{V1}/session/{{sname}}/players/fields/"]["patch"]
    assert operation["x-required-scope"] == "admin"
    assert {"400", "401", "403", "404"} <= set(operation["responses"])


def test_a_label_taken_by_a_transaction_not_yet_committed_is_skipped_not_a_500(api):
    """On PostgreSQL the label's check cannot see another transaction's uncommitted label, so
    the unique index refuses it once that commits; on SQLite the other transaction holds the
    write lock and the check then sees it. Either way: skipped, nothing written."""
    sname, codes = _session(api)
    engine = api.app.state.grove.db.engine
    answers: list[Any] = []
    with engine.connect() as other:
        transaction = other.begin()
        other.execute(sa.update(Participant).where(Participant.code == codes[1]).values(label="x"))
        patch = threading.Thread(
            target=lambda: answers.append(
                _patch(api, sname, {"unames": [codes[0]], "fields": {"label": "x", "treatment": 1}})
            )
        )
        patch.start()
        time.sleep(0.5)  # the PATCH waits for the other transaction's lock
        transaction.commit()
    patch.join(timeout=30)
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert answer.json()["updated"] == []
    assert "label 'x'" in answer.json()["skipped"][0]["reason"]
    state = _state(api)
    assert state[codes[0]] == (None, {})
    assert state[codes[1]][0] == "x"
