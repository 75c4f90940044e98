"""The admin API's players/ (chosen fields of each participant) and players/online/ (who
asked for a page or polled lately, recorded in the database so any worker answers)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.participant_presence import note_seen
from server.session_queries import PLAYER_FIELDS
from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.databases import engine as make_engine
from tests.rest_helpers import REST_KEY, assert_error_shape

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api
scoped = admin_api_helpers.scoped


def new_session(api: TestClient, **body: Any) -> tuple[str, list[str]]:
    created = api.post(
        f"{V1}/sessions/", json={"config": "trust", "n_players": 2, **body}, headers=ADMIN
    )
    assert created.status_code == 200, created.text
    sname = created.json()["sname"]
    detail = api.get(f"{V1}/session/{sname}/", headers=ADMIN).json()
    return sname, [p["code"] for p in detail["participants"]]


def test_default_and_chosen_fields(api, scoped):
    sname, codes = new_session(api, unames=["ann", "bob"])
    start = api.get(f"/InitializeParticipant/{codes[0]}")
    assert start.status_code == 200, start.text

    default = api.get(f"{V1}/session/{sname}/players/", headers=scoped["read"])
    assert default.status_code == 200, default.text
    players = default.json()
    assert list(players) == codes
    assert set(players[codes[0]]) == {"code", "label", "app", "round", "page", "finished"}
    assert players[codes[0]]["app"] == "trust"
    assert players[codes[0]]["page"]  # on its first page now
    assert players[codes[1]]["page"] is None  # not started
    assert players[codes[1]]["label"] == "bob"

    chosen = api.get(
        f"{V1}/session/{sname}/players",
        params={"fields": "payoff,vars,time_on_page,last_seen"},
        headers=ADMIN,
    ).json()
    assert set(chosen[codes[0]]) == {"payoff", "vars", "time_on_page", "last_seen"}
    assert chosen[codes[0]]["payoff"] == 0
    assert chosen[codes[0]]["vars"] == {}
    assert chosen[codes[0]]["time_on_page"] >= 0
    assert chosen[codes[0]]["last_seen"].endswith("Z")
    assert chosen[codes[1]]["time_on_page"] is None
    assert chosen[codes[1]]["last_seen"] is None

    every = api.request(
        "GET", f"{V1}/session/{sname}/players/", json={"fields": list(PLAYER_FIELDS)}, headers=ADMIN
    ).json()
    assert set(every[codes[0]]) == set(PLAYER_FIELDS)


def test_bad_fields_unknown_session_and_no_key(api):
    sname, _ = new_session(api)
    error = assert_error_shape(
        api.get(
            f"{V1}/session/{sname}/players/", params={"fields": "code,password"}, headers=ADMIN
        ),
        400,
    )
    assert "unknown field 'password'" in error["error"]
    assert_error_shape(api.get(f"{V1}/session/nope/players/", headers=ADMIN), 404)
    assert_error_shape(api.get(f"{V1}/session/nope/players/online/", headers=ADMIN), 404)
    assert_error_shape(api.get(f"{V1}/session/{sname}/players/"), 401)
    assert_error_shape(api.get(f"{V1}/session/{sname}/players/online/"), 401)
    for within in ("0", "-5", "soon", "100000"):
        assert_error_shape(
            api.get(
                f"{V1}/session/{sname}/players/online/", params={"within": within}, headers=ADMIN
            ),
            400,
        )


def test_online_is_what_any_worker_recorded(api, settings, scoped):
    """A page request served by one app (worker) is seen by another on the same database."""
    sname, codes = new_session(api)
    other_worker = create_app(settings.with_changes(rest_key=REST_KEY))
    try:
        with TestClient(other_worker) as other:
            assert other.get(f"/InitializeParticipant/{codes[1]}").status_code == 200
        answer = api.get(f"{V1}/session/{sname}/players/online/", headers=scoped["read"])
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["online"] == [codes[1]]
        assert body["players"][codes[1]]["online"] is True
        assert body["players"][codes[1]]["seconds_since_seen"] <= 5
        assert body["players"][codes[0]] == {
            "label": None,
            "online": False,
            "last_seen": None,
            "seconds_since_seen": None,
        }
    finally:
        other_worker.state.grove.db.dispose()


def test_a_wait_page_poll_counts_as_seen(api, settings):
    sname, codes = new_session(api)
    page = api.get(f"/InitializeParticipant/{codes[0]}")
    status_path = page.url.path.rstrip("/") + "/status"
    engine = make_engine(settings.database_url)
    other_worker = create_app(settings.with_changes(rest_key=REST_KEY))
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE grove_participant SET last_seen = NULL"))
        assert (
            api.get(f"{V1}/session/{sname}/players/online/", headers=ADMIN).json()["online"] == []
        )
        with TestClient(other_worker) as other:
            other.get(status_path)
        online = api.get(f"{V1}/session/{sname}/players/online/", headers=ADMIN).json()
        assert online["online"] == [codes[0]]
    finally:
        engine.dispose()
        other_worker.state.grove.db.dispose()


def test_fields_as_uproots_clients_send_a_list(api):
    """``?fields=a&fields=b`` (a repeated key), as well as ``?fields=a,b``."""
    sname, codes = new_session(api)
    answer = api.get(
        f"{V1}/session/{sname}/players/?fields=code&fields=finished&fields=payoff", headers=ADMIN
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()[codes[0]]) == {"code", "finished", "payoff"}
    twice = api.get(f"{V1}/sessions/?page=1&page=2", headers=ADMIN)
    assert_error_shape(twice, 400)  # one value expected: a list is refused, not cut short


def test_a_refused_url_does_not_count_as_seen(api):
    sname, codes = new_session(api)
    assert api.get(f"/p/{codes[0]}/trust/NoSuchPage/x", follow_redirects=False).status_code == 404
    online = api.get(f"{V1}/session/{sname}/players/online/", headers=ADMIN).json()
    assert online["online"] == []
    assert online["players"][codes[0]]["last_seen"] is None


def test_noting_presence_writes_only_when_a_write_is_due(api_app, api, monkeypatch):
    """A made-up code (a live socket is noted as it connects, before its code is checked) and
    a last_seen another worker wrote moments ago cost a read, not a write transaction: on
    SQLite each write takes the database's one write lock, which page submissions queue on."""
    sname, codes = new_session(api)
    db = api_app.state.grove.db
    writes: list[object] = []
    real_run = db.run

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        writes.append(args)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(db, "run", counting_run)
    note_seen(db, "no-such-code")
    assert writes == []
    note_seen(db, codes[0])
    assert len(writes) == 1
    note_seen(db, codes[0])  # noted within SEEN_REFRESH_SECONDS, by this or another worker
    assert len(writes) == 1
    seen = api.get(f"{V1}/session/{sname}/players/online/", headers=ADMIN).json()
    assert seen["online"] == [codes[0]]
