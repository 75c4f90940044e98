"""Members a completed wait page left waiting are moved on with the completion, so a member
whose browser is gone still reaches the next page and times out there.

oTree 6.0.15 (otree/views/abstract.py ``_mark_completed_and_notify``, otree/tasks.py
``ensure_pages_visited``, measured on its prodserver by a helper session on 2026-12-02): when a
group's wait page completes, every member gets a page-times row for it at that moment
(``is_wait_page`` 1, ``timeout_happened`` 0), and 10 to 13 s later its task worker loads the
current page of every member who has not gone on, so a member whose browser is gone reaches
the next page and its ``timeout_seconds`` countdown starts; the timeout then submits that page
with ``timeout_happened`` and the group is not held up. Grove moves them in the unit of work
that completes the page (server/flow.py, ``_move_on_the_waiting``): the same rows, the same
outcome, without the delay (oTree's devserver never moves them).

The test project ``relay``: Intro, Gather (wait page), Decide (a time limit), Regroup (wait
page), Results. Participant A submits Intro and never loads another page; B plays on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

RELAY_PROJECT = Path(__file__).resolve().parent / "projects" / "relay"
SWEEP_SECONDS = 0.1
DECIDE_SECONDS = 1.0


def _app(tmp_path: Path, poll: float = SWEEP_SECONDS):
    settings = load_settings(RELAY_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    return create_app(settings.with_changes(timeout_poll_seconds=poll))


def _session(client: Any, n: int = 2, **fields: object) -> tuple[str, list[str]]:
    """A relay session of ``n`` over the REST API; its code and its participants' codes (by
    id in session: groups of two in that order)."""
    code = client.post(
        "/api/sessions/",
        json={
            "session_config_name": "relay",
            "num_participants": n,
            "modified_session_config_fields": fields,
        },
    ).json()["code"]
    participants = client.get(f"/api/sessions/{code}").json()["participants"]
    return code, [p["code"] for p in participants]


def _submit_first_page(client: Any, participant: str) -> str:
    """Start the participant and submit Intro; return where the answer sends them."""
    intro = client.get(f"/InitializeParticipant/{participant}", follow_redirects=True)
    assert "<p>Intro</p>" in intro.text
    answer = client.post(str(intro.url), data={}, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["location"]


def _page_of(client: Any, session: str, participant: str) -> str | None:
    participants = client.get(f"/api/sessions/{session}").json()["participants"]
    [found] = [p for p in participants if p["code"] == participant]
    return found["current_page_name"] if not found["finished"] else "finished"


def _wait_for(condition: Callable[[], bool], seconds: float) -> float:
    """Poll ``condition`` until it holds; return when it first held (time.time())."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if condition():
            return time.time()
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def _csv(client: Any, path: str) -> list[dict[str, str]]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))


def _at_one_moment(times: Any) -> bool:
    """Whether these export times (``time_completed_utc``) are within a tenth of a second:
    written by one unit of work."""
    moments = [dt.datetime.fromisoformat(t) for t in times]
    return (max(moments) - min(moments)).total_seconds() < 0.1


@pytest.mark.slow
def test_an_absent_member_is_moved_on_at_the_completion_and_times_out_there(tmp_path):
    app = _app(tmp_path)
    with TestClient(app) as client:
        session, (absent, present) = _session(client, decide_seconds=DECIDE_SECONDS)
        assert "/relay/Gather/" in _submit_first_page(client, absent)  # and never loads it
        completed = time.time()
        assert "/relay/Decide/" in _submit_first_page(client, present)
        assert _page_of(client, session, absent) == "Decide"

        # Decide's countdown started when A was moved on, so its timeout submits it (oTree's
        # grace period included) without A's browser; B submits theirs, and both go on.
        decide = client.get(f"/p/{present}/relay/Decide/3")
        assert "<p>Decide</p>" in decide.text
        client.post(str(decide.url), data={}, follow_redirects=False)
        _wait_for(lambda: _page_of(client, session, present) == "Results", 15)
        _wait_for(lambda: _page_of(client, session, absent) == "Results", 15)

        players = {r["participant.code"]: r for r in _csv(client, "/api/export/relay")}
        assert players[absent]["player.decide_timed_out"] == "1"
        assert players[present]["player.decide_timed_out"] == "0"

        times = _csv(client, "/api/export/page_times")
        gathered = [r for r in times if r["page_name"] == "Gather"]
        assert sorted(r["participant_code"] for r in gathered) == sorted([absent, present])
        for row in gathered:  # recorded for both at the completion (B's arrival)
            assert (row["is_wait_page"], row["timeout_happened"]) == ("1", "0")
            assert abs(int(row["epoch_time_completed"]) - completed) <= 1
        decided = [r for r in times if r["page_name"] == "Decide"]
        assert {r["participant_code"]: r["timeout_happened"] for r in decided} == {
            absent: "1",
            present: "0",
        }
        # Regroup completed when A's timed-out Decide brought A there; B, whose page did not
        # ask either, has its row from then too and was moved on to Results with it.
        regrouped = [r for r in times if r["page_name"] == "Regroup"]
        assert sorted(r["participant_code"] for r in regrouped) == sorted([absent, present])
        assert _at_one_moment(r["time_completed_utc"] for r in regrouped)
        assert {(r["is_wait_page"], r["timeout_happened"]) for r in regrouped} == {("1", "0")}
    app.state.grove.db.dispose()


def test_members_moved_on_arrive_at_the_next_wait_page_and_may_finish(tmp_path):
    """chain: First (each group's wait page), then Second (the whole subsession's, the last
    page). Nobody loads a page after their Intro submission: each group's second completes
    First and moves the first onto Second with it, and the last of all completes Second and
    ends the session for everyone. Every member has one page-times row per wait page, at its
    completion (oTree's prodserver: the same, 10 s a step later)."""
    app = _app(tmp_path, poll=3600.0)
    grove = app.state.grove
    with TestClient(app) as client:
        code = client.post(
            "/api/sessions/", json={"session_config_name": "chain", "num_participants": 4}
        ).json()["code"]
        members = [p["code"] for p in client.get(f"/api/sessions/{code}").json()["participants"]]
        pages = lambda: [_page_of(client, code, m) for m in members]  # noqa: E731
        _submit_first_page(client, members[0])
        _submit_first_page(client, members[1])
        assert pages() == ["Second", "Second", None, None]
        _submit_first_page(client, members[2])
        assert pages() == ["Second", "Second", "First", None]
        _submit_first_page(client, members[3])
        assert pages() == ["finished"] * 4

        rows = [r for r in _csv(client, "/api/export/page_times") if r["app_name"] == "chain"]
        by_page: dict[str, list[str]] = {}
        for row in rows:
            assert (row["is_wait_page"], row["timeout_happened"]) == (
                "0" if row["page_name"] == "Intro" else "1",
                "0",
            )
            by_page.setdefault(row["page_name"], []).append(row["participant_code"])
        assert {page: sorted(codes) for page, codes in by_page.items()} == dict.fromkeys(
            ["Intro", "First", "Second"], sorted(members)
        )
        # All four at the completion.
        assert _at_one_moment(r["time_completed_utc"] for r in rows if r["page_name"] == "Second")
    grove.db.dispose()


def test_the_first_member_of_a_group_formed_by_arrival_is_moved_on(tmp_path):
    """group_by_arrival_time: the second arrival forms the group and goes on, and the first,
    whose page never asks again, with it (oTree: the new group's members); both have Lobby's
    page-times row from the moment the group formed. The two who have not come yet stay."""
    app = _app(tmp_path, poll=3600.0)
    grove = app.state.grove
    with TestClient(app) as client:
        code = client.post(
            "/api/sessions/", json={"session_config_name": "arrivals", "num_participants": 4}
        ).json()["code"]
        members = [p["code"] for p in client.get(f"/api/sessions/{code}").json()["participants"]]
        first, second = members[2], members[0]
        assert "/arrivals/Lobby/" in _submit_first_page(client, first)
        assert "/arrivals/Results/" in _submit_first_page(client, second)
        assert [_page_of(client, code, m) for m in members] == [
            "Results",
            None,
            "Results",
            None,
        ]
        rows = [r for r in _csv(client, "/api/export/page_times") if r["page_name"] == "Lobby"]
        assert sorted(r["participant_code"] for r in rows) == sorted([first, second])
        assert _at_one_moment(r["time_completed_utc"] for r in rows)
    grove.db.dispose()


REST_KEY = "wait-page-members-key"
GROUPS = 8


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_two_workers_move_each_member_once_while_the_waiting_reload(tmp_path, backend):
    """Eight groups on two workers: each group's second member completes Gather while the
    first, on Gather, reloads it and asks its status over and over. Every member reaches
    Decide exactly once: Decide.is_displayed, which runs each time a participant is moved onto
    it, stored one row for each, and each has one page-times row for Gather."""
    url = databases.database_url(tmp_path, "members", backend)
    log_path = tmp_path / "server.log"
    env = {"GROVE_PROJECT_ROOT": str(RELAY_PROJECT), "OTREE_REST_KEY": REST_KEY}
    with (
        live_server(url, workers=2, extra_env=env, log_path=log_path) as base,
        httpx.Client(base_url=base, headers={"otree-rest-key": REST_KEY}, timeout=60) as client,
    ):
        session, codes = _session(client, 2 * GROUPS, decide_seconds=600)
        waiting, completing = codes[0::2], codes[1::2]
        wait_urls = {code: _submit_first_page(client, code) for code in waiting}
        assert all("/relay/Gather/" in url for url in wait_urls.values())
        start = threading.Barrier(2 * GROUPS)

        def reload(code: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as browser:
                start.wait()
                for _ in range(10):
                    browser.get(wait_urls[code], follow_redirects=True).raise_for_status()
                    status = browser.get(wait_urls[code] + "/status")
                    status.raise_for_status()

        def complete(code: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as browser:
                start.wait()
                _submit_first_page(browser, code)

        threads = [threading.Thread(target=reload, args=(c,)) for c in waiting]
        threads += [threading.Thread(target=complete, args=(c,)) for c in completing]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert all(_page_of(client, session, c) == "Decide" for c in codes)

        moves = _csv(client, "/api/export/relay/custom_export")
        assert {r["participant_code"]: r["moves_onto_decide"] for r in moves} == dict.fromkeys(
            codes, "1"
        )
        gathered = [r for r in _csv(client, "/api/export/page_times") if r["page_name"] == "Gather"]
        assert sorted(r["participant_code"] for r in gathered) == sorted(codes)
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log, log
