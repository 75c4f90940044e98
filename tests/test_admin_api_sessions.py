"""The admin API's sessions over HTTP: list (filters, pages), create (uproot's and oTree's
bodies), detail (positions, groups), description, archived/active, settings, delete. Each
refused with a read key where it writes, without a key, for an unknown session (404) and for
bad bodies (400), writing nothing."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.scripted_sessions import NewSession, create_scripted_session
from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.databases import engine as make_engine
from tests.rest_helpers import assert_error_shape, table_counts

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api
scoped = admin_api_helpers.scoped


def create(api: TestClient, headers=ADMIN, **body: Any):
    return api.post(f"{V1}/sessions/", json=body, headers=headers)


def created_code(api: TestClient, **body: Any) -> str:
    response = create(api, **body)
    assert response.status_code == 200, response.text
    return response.json()["sname"]


@pytest.fixture
def unchanged(settings):
    """Assert that the block wrote nothing: ``with unchanged(): ...``."""
    engine = make_engine(settings.database_url)

    class Unchanged:
        def __enter__(self):
            self.before = table_counts(engine)

        def __exit__(self, *exc_info):
            if exc_info[0] is None:
                assert table_counts(engine) == self.before

    yield Unchanged
    engine.dispose()


def test_create_with_uprootss_body_then_read_it_back(api):
    response = create(
        api,
        config="trust",
        n_players=4,
        sname="pilot_1",
        unames=["ann", "bob", " cy ", "dee"],
        settings={"num_apples": "12", "participation_fee": 2.5},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sname"] == body["code"] == "pilot_1"
    assert body["created"] is True
    assert body["session_wide_url"].startswith("http://testserver/join/")

    detail = api.get(f"{V1}/session/pilot_1/", headers=ADMIN).json()
    assert detail["config"] == "trust"
    assert detail["n_players"] == 4
    assert detail["settings"]["num_apples"] == 12  # the admin form's rule: an int stays one
    assert detail["settings"]["participation_fee"] == 2.5
    assert detail["apps"] == ["trust", "payment_info"]
    assert [p["label"] for p in detail["participants"]] == ["ann", "bob", "cy", "dee"]
    first = detail["participants"][0]
    assert first["started"] is False
    assert first["page_index"] == 0
    assert first["num_pages"] > 0
    codes = [p["code"] for p in detail["participants"]]
    trust_round = next(g for g in detail["groups"] if g["app"] == "trust")
    assert trust_round["round"] == 1
    assert sorted(code for group in trust_round["groups"] for code in group) == sorted(codes)
    assert all(len(group) == 2 for group in trust_round["groups"])
    assert detail["n_groups"] == 2
    assert detail["active"] is True
    assert detail["created_by"] == "otree-rest-key"


def test_create_with_otrees_fields_label_description_and_room(api):
    response = create(
        api,
        session_config_name="survey",
        num_participants=2,
        room_name="econ101",
        label="Monday",
        description="pilot, do not pay",
        modified_session_config_fields={"participation_fee": "3"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["room_url"] == "http://testserver/room/econ101/"
    detail = api.get(f"{V1}/session/{response.json()['sname']}", headers=ADMIN).json()
    assert (detail["label"], detail["description"], detail["room"]) == (
        "Monday",
        "pilot, do not pay",
        "econ101",
    )
    assert detail["settings"]["participation_fee"] == 3.0


def test_n_players_may_be_left_out(api):
    with_labels = created_code(api, config="survey", unames=["a", "b", "c"])
    assert api.get(f"{V1}/session/{with_labels}", headers=ADMIN).json()["n_players"] == 3
    smallest = created_code(api, config="public_goods")
    assert api.get(f"{V1}/session/{smallest}", headers=ADMIN).json()["n_players"] == 3


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, "missing required field config"),
        ({"config": "trust", "session_config_name": "survey"}, 400, "not both"),
        ({"config": "nope", "n_players": 2}, 404, "nope"),
        ({"config": "trust", "n_players": 3}, 400, "multiple of 2"),
        ({"config": "trust", "n_players": 0}, 400, "n_players"),
        ({"config": "trust", "n_players": "two"}, 400, "n_players must be an integer"),
        ({"config": "trust", "n_players": 2, "room": "nowhere"}, 404, "nowhere"),
        ({"config": "trust", "n_players": 2, "sname": "has space"}, 400, "sname"),
        ({"config": "trust", "n_players": 2, "unames": ["a"]}, 400, "one per participant"),
        ({"config": "trust", "n_players": 2, "unames": ["a", " a"]}, 400, "twice"),
        ({"config": "trust", "n_players": 2, "unames": ["a", ""]}, 400, "unames"),
        (
            {"config": "trust", "n_players": 2, "settings": {"num_apples": "many"}},
            400,
            "num_apples",
        ),
        (
            {"config": "trust", "n_players": 2, "settings": {"app_sequence": []}},
            400,
            "app_sequence",
        ),
        ({"config": "trust", "n_players": 2, "description": "x" * 10_001}, 400, "description"),
        ({"config": "trust", "n_players": 2, "colour": "red"}, 400, "unknown parameter 'colour'"),
    ],
)
def test_bad_create_bodies_are_refused_and_write_nothing(api, unchanged, body, status, words):
    with unchanged():
        error = assert_error_shape(create(api, **body), status)
    assert words in error["error"], error


def test_a_taken_sname_is_a_conflict(api, unchanged):
    created_code(api, config="survey", n_players=1, sname="taken")
    with unchanged():
        assert_error_shape(create(api, config="survey", n_players=1, sname="taken"), 409)


def test_who_may_create(api, scoped, unchanged):
    with unchanged():
        assert_error_shape(create(api, headers={}, config="survey", n_players=1), 401)
        assert_error_shape(create(api, headers=scoped["read"], config="survey", n_players=1), 403)
    response = create(api, headers=scoped["write"], config="survey", n_players=1)
    assert response.status_code == 200, response.text
    detail = api.get(f"{V1}/session/{response.json()['sname']}", headers=scoped["read"])
    assert detail.json()["created_by"] == "write_user"


def test_list_filters_and_pages(api, scoped):
    first = created_code(api, config="survey", n_players=1)
    second = created_code(api, config="trust", n_players=2, room="econ101")
    third = created_code(api, config="survey", n_players=1)
    archived = api.patch(f"{V1}/session/{first}/archived/", json={"archived": True}, headers=ADMIN)
    assert archived.json() == {"active": False, "archived": True}

    def snames(**query: Any) -> list[str]:
        response = api.get(f"{V1}/sessions", params=query, headers=scoped["read"])
        assert response.status_code == 200, response.text
        return [s["sname"] for s in response.json()["sessions"]]

    assert snames() == [third, second, first]  # newest first
    assert snames(config="survey") == [third, first]
    assert snames(room="econ101") == [second]
    assert snames(archived="true") == [first]
    assert snames(archived="false") == [third, second]
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert snames(created_since=past) == [third, second, first]
    assert snames(created_since=str(int(dt.datetime.now(dt.UTC).timestamp()) + 3600)) == []

    page = api.get(f"{V1}/sessions/", params={"per_page": 2}, headers=ADMIN).json()
    assert [s["sname"] for s in page["sessions"]] == [third, second]
    assert (page["total"], page["next_page"]) == (3, 2)
    last = api.get(f"{V1}/sessions/", params={"per_page": 2, "page": 2}, headers=ADMIN).json()
    assert [s["sname"] for s in last["sessions"]] == [first]
    assert last["next_page"] is None


@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"},
        {"per_page": "501"},
        {"archived": "maybe"},
        {"created_since": "soon"},
        {"x": "1"},
    ],
)
def test_bad_list_queries_are_400(api, query):
    assert_error_shape(api.get(f"{V1}/sessions/", params=query, headers=ADMIN), 400)


def test_reads_need_a_key(api):
    code = created_code(api, config="survey", n_players=1)
    assert_error_shape(api.get(f"{V1}/sessions/"), 401)
    assert_error_shape(api.get(f"{V1}/session/{code}/"), 401)


def test_an_unknown_session_is_404_everywhere(api, unchanged):
    with unchanged():
        assert_error_shape(api.get(f"{V1}/session/nope/", headers=ADMIN), 404)
        assert_error_shape(api.delete(f"{V1}/session/nope/", headers=ADMIN), 404)
        for path, body in [
            ("description", {"description": "x"}),
            ("archived", {"archived": True}),
            ("active", {}),
            ("settings", {"settings": {"num_apples": 1}}),
        ]:
            assert_error_shape(
                api.patch(f"{V1}/session/nope/{path}/", json=body, headers=ADMIN), 404
            )


def test_description(api, scoped, unchanged):
    code = created_code(api, config="survey", n_players=1)
    url = f"{V1}/session/{code}/description/"
    answer = api.patch(url, json={"description": "  second try  "}, headers=ADMIN)
    assert answer.json() == {"description": "second try"}
    assert api.get(f"{V1}/session/{code}", headers=ADMIN).json()["description"] == "second try"
    assert api.patch(url, json={}, headers=ADMIN).json() == {"description": ""}
    with unchanged():
        for headers in (scoped["read"], scoped["write"]):
            assert_error_shape(api.patch(url, json={"description": "x"}, headers=headers), 403)
        assert_error_shape(api.patch(url, json={"description": 5}, headers=ADMIN), 400)
        assert_error_shape(api.patch(url, json={"description": "\x00"}, headers=ADMIN), 400)


def test_archived_and_uproots_active_toggle(api, scoped, unchanged):
    code = created_code(api, config="survey", n_players=1)
    active = f"{V1}/session/{code}/active/"
    assert api.patch(active, headers=ADMIN).json() == {"active": False, "archived": True}
    assert api.patch(active, headers=ADMIN).json() == {"active": True, "archived": False}
    assert api.patch(active, json={"active": False}, headers=ADMIN).json()["archived"] is True
    archived = f"{V1}/session/{code}/archived"
    assert api.patch(archived, json={"archived": False}, headers=ADMIN).json()["active"] is True
    with unchanged():
        assert_error_shape(api.patch(archived, json={}, headers=ADMIN), 400)
        assert_error_shape(api.patch(archived, json={"archived": "perhaps"}, headers=ADMIN), 400)
        assert_error_shape(api.patch(active, headers=scoped["read"]), 403)


def test_settings(api, scoped, unchanged):
    code = created_code(api, config="trust", n_players=2)
    url = f"{V1}/session/{code}/settings/"
    answer = api.patch(
        url, json={"settings": {"num_apples": "20", "participation_fee": "1.5"}}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"]["num_apples"] == 20
    detail = api.get(f"{V1}/session/{code}", headers=ADMIN).json()
    assert detail["settings"]["participation_fee"] == 1.5
    assert detail["settings"]["num_apples"] == 20
    with unchanged():
        for body, words in [
            ({"settings": {"num_apples": "lots"}}, "settings: num_apples must be a number"),
            ({"settings": {"name": "other"}}, "'name' cannot be changed"),
            ({"settings": {}}, "at least one"),
            ({"settings": [1]}, "settings must be an object"),
            ({}, "missing required field settings"),
        ]:
            error = assert_error_shape(api.patch(url, json=body, headers=ADMIN), 400)
            assert words in error["error"], error
        assert_error_shape(
            api.patch(url, json={"settings": {"num_apples": 1}}, headers=scoped["write"]), 403
        )


def test_delete(api, scoped, unchanged):
    code = created_code(api, config="trust", n_players=2)
    with unchanged():
        for headers in ({}, scoped["read"], scoped["write"]):
            assert api.delete(f"{V1}/session/{code}/", headers=headers).status_code in (401, 403)
    answer = api.delete(f"{V1}/session/{code}", headers=scoped["admin"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["deleted"] is True
    assert answer.json()["rows"] > 2
    assert_error_shape(api.get(f"{V1}/session/{code}/", headers=ADMIN), 404)


def test_two_creates_of_one_sname_at_once_make_one_session(api_app, api):
    """The second is a 409 whether it checked before or after the first committed."""
    db, project = api_app.state.grove.db, api_app.state.grove.project
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def create_one() -> None:
        barrier.wait()
        try:
            outcomes.append(
                create_scripted_session(db, project, NewSession("trust", 2, "same"), who="test")
            )
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=create_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "CreatedSession"], outcomes
    listed = api.get(f"{V1}/sessions/", headers=ADMIN).json()
    assert [s["sname"] for s in listed["sessions"]] == ["same"]
