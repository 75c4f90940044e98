"""Timeouts and group_by_arrival_time as oTree 6 does them.

Expected values were measured on oTree 6.0.15: a page submitted by its timeout keeps the valid
values and sets every other field to 0 / 0.0 / cu(0) / False / "" by type (a blank field left
empty stays None, a blank text field is ""); ``group_by_arrival_time_method`` may return a
smaller group and is re-run while players wait (multiplayer_waitpages.rst).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server import timeouts
from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

# Each test waits out real page deadlines (seconds): the fast subset leaves them out.
pytestmark = pytest.mark.slow

FLOW_PROJECT = Path(__file__).resolve().parent / "projects" / "flow"
NO_SWEEP = 3600.0  # the background sweep stays out of the way; the test calls it


def _app(tmp_path: Path, poll: float):
    settings = load_settings(FLOW_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    return create_app(settings.with_changes(timeout_poll_seconds=poll))


def _session(client, config: str, n: int, **fields) -> tuple[str, list[str]]:
    code = client.post(
        "/api/sessions/",
        json={
            "session_config_name": config,
            "num_participants": n,
            "modified_session_config_fields": fields,
        },
    ).json()["code"]
    participants = client.get(f"/api/sessions/{code}").json()["participants"]
    return code, [p["code"] for p in participants]


def _start(client, participant: str) -> str:
    return client.get(f"/InitializeParticipant/{participant}", follow_redirects=False).headers[
        "location"
    ]


def _row(app, table: str, participant: str, columns: str) -> dict:
    with app.state.grove.db.read() as db:
        return dict(
            db.execute(
                sa.text(
                    f"SELECT {', '.join('t.' + c.strip() for c in columns.split(','))} "
                    f"FROM {table} t JOIN grove_participant gp "
                    "ON gp.id = t.participant_id WHERE gp.code = :c"
                ),
                {"c": participant},
            )
            .mappings()
            .one()
        )


ALL_DEFAULTS = {
    "b_plain": False, "b_check": False, "b_blank": None, "i_plain": 0, "i_blank": None,
    "i_choices": 0, "i_initial": 0, "f_plain": 0.0, "c_plain": 0.0, "c_blank": None,
    "s_plain": "", "s_choices": "", "s_blank": "", "l_plain": "", "l_blank": "", "kept": 0,
}  # fmt: skip

# (what the browser's auto-submission carried, what oTree 6.0.15 stored)
TIMEOUT_CASES = [
    ({}, ALL_DEFAULTS),
    (
        {
            "i_plain": "7", "kept": "3", "c_plain": "25", "s_choices": "zzz", "b_plain": "True",
            "s_plain": "hello", "i_blank": "", "c_blank": "", "s_blank": "", "l_blank": "",
            "f_plain": "abc",
        },
        {**ALL_DEFAULTS, "b_plain": True, "i_plain": 7, "s_plain": "hello", "kept": 3},
    ),
    (
        {
            "i_plain": "70", "kept": "3", "b_check": "True", "i_initial": "", "l_plain": "x",
            "i_choices": "2", "b_blank": "False",
        },
        {**ALL_DEFAULTS, "b_check": True, "b_blank": False, "i_choices": 2, "l_plain": "x",
         "kept": 3},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("posted", "stored"), TIMEOUT_CASES)
def test_timed_out_page_stores_otree_defaults_by_type(tmp_path, posted, stored):
    app = _app(tmp_path, NO_SWEEP)
    with TestClient(app) as client:
        _code, (participant,) = _session(client, "fields", 1)
        url = _start(client, participant)
        assert "/fields/AllTypes/" in url
        time.sleep(1.2)  # within the grace period of the 3-second limit, as a browser's timer
        response = client.post(
            url, data={**posted, "timeout_happened": "1"}, follow_redirects=False
        )
        assert response.status_code in (302, 303), response.text
        assert "/fields/Sum/" in response.headers["location"]
        row = _row(app, "fields_player", participant, ", ".join(stored))
        assert {k: (bool(v) if stored[k] in (True, False) and v is not None else v)
                for k, v in row.items()} == stored  # fmt: skip
    app.state.grove.db.dispose()


@pytest.mark.parametrize(
    ("posted", "stored"),
    [
        ({"a": "30", "b": "40"}, {"a": 30, "b": 40}),
        # A field is missing: oTree asks error_message, which raises on None: all defaults.
        ({"a": "30"}, {"a": 0, "b": 0}),
        # Valid fields, but error_message refuses the form: the whole form is discarded.
        ({"a": "90", "b": "40"}, {"a": 0, "b": 0}),
    ],
)
def test_timeout_with_error_message_discards_the_whole_form(tmp_path, posted, stored):
    app = _app(tmp_path, NO_SWEEP)
    with TestClient(app) as client:
        _code, (participant,) = _session(client, "fields", 1)
        url = _start(client, participant)
        time.sleep(1.2)
        url = client.post(url, data={"timeout_happened": "1"}, follow_redirects=False).headers[
            "location"
        ]
        assert "/fields/Sum/" in url
        time.sleep(1.2)
        response = client.post(
            url, data={**posted, "timeout_happened": "1"}, follow_redirects=False
        )
        assert "/fields/Done/" in response.headers["location"]
        assert _row(app, "fields_player", participant, "a, b") == stored
    app.state.grove.db.dispose()


def _wait_until(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(what)


def test_absent_player_times_out_and_the_sum_in_the_wait_page_works(tmp_path):
    app = _app(tmp_path, 0.2)
    with TestClient(app) as client:
        _code, players = _session(client, "pot", 2, contribute_seconds=1)
        urls = [_start(client, p) for p in players]
        wait = client.post(urls[0], data={"contribution": "40"}, follow_redirects=False)
        wait_url = wait.headers["location"]
        # Player 2 never comes back: the sweep submits their page with contribution 0.
        _wait_until(
            lambda: client.get(wait_url + "/status").json()["ready"],
            15,
            "the group never completed",
        )
        page = client.get(wait_url, follow_redirects=True)
        assert "/pot/Results/" in str(page.url)
        assert '<p class="total">40 points</p>' in page.text
        assert _row(app, "pot_player", players[1], "contribution, payoff") == {
            "contribution": 0.0,
            "payoff": 140.0,
        }
    app.state.grove.db.dispose()


def test_public_goods_sample_absent_player_contributes_zero(client, app):
    # 3 s: the two present players' answers come well within it, even on a busy machine.
    _code, players = _session(client, "public_goods", 3, contribution_timeout_seconds=3)
    urls = [_start(client, p) for p in players]
    waits = [
        client.post(url, data={"contribution": "20"}, follow_redirects=False).headers["location"]
        for url in urls[:2]
    ]
    _wait_until(
        lambda: client.get(waits[0] + "/status").json()["ready"], 15, "the group never completed"
    )
    # 40 in the pot x 1.8 / 3 = 24 each: 100 - 20 + 24 for those who gave 20, 124 for the absent.
    payoffs = [_row(app, "public_goods_player", p, "contribution, payoff") for p in players]
    assert payoffs == [
        {"contribution": 20.0, "payoff": 104.0},
        {"contribution": 20.0, "payoff": 104.0},
        {"contribution": 0.0, "payoff": 124.0},
    ]


def test_failing_timeouts_do_not_hold_up_other_sessions(tmp_path, caplog):
    app = _app(tmp_path, NO_SWEEP)
    timeouts._failures.clear()
    with TestClient(app) as client:
        # 60 participants whose page fails when it times out: more than one sweep's batch.
        failing = []
        for _ in range(30):
            failing += _session(client, "pot", 2, contribute_seconds=0, explode=True)[1]
        for participant in failing:
            _start(client, participant)
        _code, good = _session(client, "pot", 2, contribute_seconds=0)
        for participant in good:
            _start(client, participant)
        time.sleep(timeouts.flow.TIMEOUT_GRACE_SECONDS + 0.2)
        grove = app.state.grove
        with caplog.at_level(logging.INFO, logger="grove.timeouts"):
            for _ in range(4):
                timeouts.submit_due_pages(grove.db, grove.project)
        logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(logged) == len(failing)  # once each, naming the participant and the page
        assert all(re.search(r"page 1 of participant \w+ failed", r.getMessage()) for r in logged)
        for participant in good:
            detail = _row(app, "pot_player", participant, "contribution, payoff")
            assert detail == {"contribution": 0.0, "payoff": 100.0}
    timeouts._failures.clear()
    app.state.grove.db.dispose()


def _arrive(client, participant: str) -> str:
    """Start, pass the intro page; return the lobby wait page's URL."""
    url = _start(client, participant)
    return client.post(url, data={}, follow_redirects=False).headers["location"]


def _play(client, url: str) -> tuple[int, int, int]:
    page = client.get(url, follow_redirects=True)
    assert "/lobby/Play/" in str(page.url), page.text
    found = [int(re.search(f'class="{k}">([0-9]+)<', page.text).group(1))
             for k in ("group", "size", "formed")]  # fmt: skip
    return found[0], found[1], found[2]


def test_arrival_method_lets_a_lone_player_go_without_new_arrivals(tmp_path):
    app = _app(tmp_path, 0.2)
    with TestClient(app) as client:
        _code, players = _session(client, "lobby", 6, lone_after_seconds=1)
        first = _arrive(client, players[0])
        assert "/lobby/Lobby/" in first
        assert client.get(first + "/status").json() == {"ready": False}
        # Nobody else comes: the method runs again while they wait and returns [player].
        _wait_until(
            lambda: client.get(first + "/status").json()["ready"], 15, "the lone player waits on"
        )
        # A new group, numbered after the group everyone started in (oTree 6.0.15).
        assert _play(client, first) == (2, 1, 1)
        # Three arrive together: a group of three, numbered next.
        urls = [_arrive(client, p) for p in players[1:4]]
        assert [_play(client, url) for url in urls] == [(3, 3, 1)] * 3
    app.state.grove.db.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_arrival_grouping_on_two_workers(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "lobby", backend)
    env = {"GROVE_PROJECT_ROOT": str(FLOW_PROJECT)}
    with live_server(database_url, workers=2, extra_env=env) as base:
        created = httpx.post(
            f"{base}/api/sessions/",
            json={
                "session_config_name": "lobby",
                "num_participants": 9,
                "modified_session_config_fields": {"lone_after_seconds": 3},
            },
        ).json()
        players = [
            p["code"]
            for p in httpx.get(f"{base}/api/sessions/{created['code']}").json()["participants"]
        ]
        waits: list[str] = [""] * 6
        barrier = threading.Barrier(6)

        def arrive(index: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as browser:
                url = str(
                    browser.get(
                        f"/InitializeParticipant/{players[index]}", follow_redirects=True
                    ).url
                )
                barrier.wait()
                waits[index] = browser.post(url, data={}, follow_redirects=False).headers[
                    "location"
                ]

        threads = [threading.Thread(target=arrive, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Six arrive at once on two workers: two groups of three, each formed once.
        seen = []
        for url in waits[:6]:
            page = httpx.get(base + url, follow_redirects=True)
            assert "/lobby/Play/" in str(page.url), page.text
            seen.append(
                re.search(
                    r'class="group">(\d+)<.*class="size">(\d+)<.*class="formed">(\d+)<', page.text
                ).groups()
            )
        # Numbered after group 1, where everyone started (oTree 6.0.15), each number once.
        assert sorted(seen) == [("2", "3", "1")] * 3 + [("3", "3", "1")] * 3
        # The seventh waits alone; the background sweep (either worker) releases it.
        with httpx.Client(base_url=base, timeout=60) as browser:
            url = str(
                browser.get(f"/InitializeParticipant/{players[6]}", follow_redirects=True).url
            )
            lobby = browser.post(url, data={}, follow_redirects=False).headers["location"]
            _wait_until(
                lambda: browser.get(lobby + "/status").json()["ready"], 20, "the seventh waits on"
            )
            page = browser.get(lobby, follow_redirects=True)
            assert re.search(r'class="group">4<.*class="size">1<.*class="formed">1<', page.text)
