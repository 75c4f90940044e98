"""Participants of different groups who write session.vars at the same time (oTree's usual
counter, ``session.vars["n"] = session.vars.get("n", 0) + 1`` in before_next_page), on two
workers: every submission is answered and the counter counts every participant, as on oTree,
which runs one request at a time.

Found 2026-12-03 on PostgreSQL: 1-2 of 20 submissions answered 303, the rest 500 (deadlock:
each unit's change stamp locked every participant of the session) or 503, and the counter
ended at 1-2 (each unit read the session row unlocked and wrote the whole vars column back).
Now the session row carries its own change stamp, and a unit that finds the row held or
changed when it writes it runs again with it locked first (``server/unlocked_writes.py``).
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from server.bots.html_form import parse_forms
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

PROJECT = Path(__file__).resolve().parent / "projects" / "session_counter"
PARTICIPANTS = 20


def _leave_first_page(base: str, code: str, ready: threading.Barrier, statuses: list[int]) -> None:
    with httpx.Client(base_url=base, timeout=60) as browser:
        page = browser.get(f"/InitializeParticipant/{code}", follow_redirects=True)
        [form] = [f for f in parse_forms(page.text) if f.attributes.get("id") == "form"]
        ready.wait()
        statuses.append(browser.post(str(page.url), data=dict(form.submission({}))).status_code)


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend",
    [
        BOTH[0],
        pytest.param(databases.POSTGRESQL, marks=[pytest.mark.slow, pytest.mark.postgres]),
    ],
)
def test_participants_of_different_groups_counting_in_session_vars_at_once(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "counter", backend)
    log_path = tmp_path / "server.log"
    env = {"GROVE_PROJECT_ROOT": str(PROJECT)}
    statuses: list[int] = []
    with live_server(database_url, workers=2, log_path=log_path, extra_env=env) as base:
        created = httpx.post(
            f"{base}/api/sessions/",
            json={"session_config_name": "counter", "num_participants": PARTICIPANTS},
            timeout=60,
        )
        assert created.status_code == 200, created.text
        code = created.json()["code"]
        session = httpx.get(f"{base}/api/sessions/{code}", timeout=60).json()
        ready = threading.Barrier(PARTICIPANTS, timeout=60)
        threads = [
            threading.Thread(target=_leave_first_page, args=(base, p["code"], ready, statuses))
            for p in session["participants"]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = httpx.get(f"{base}/api/sessions/{code}", timeout=60).json()
    assert statuses == [303] * PARTICIPANTS, log_path.read_text()[-3000:]
    assert after["vars"].get("n") == PARTICIPANTS
