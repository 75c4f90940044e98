"""A wait page's last arrival whose move of the members must be run again lets go of the group
at once (PostgreSQL). Found 2026-12-03 behind test_shown_wait_race's 503s.

The next page's is_displayed adds one to a subsession field, written without its lock; the
last arrival moves each waiting member in a savepoint (``flow._moved_in_savepoint``). When
another transaction holds the subsession row, the flush's check
(``server/unlocked_writes.py``) raises RunAgainWithLocks; the savepoint took it for the app's
own failure and moved the members again one at a time, and the row, noted as held by the
first check although it was not locked, went out in a plain UPDATE that waited for the other
transaction, while the unit held the group and its members' rows: the members' own requests
queued on the group behind it (503 after the lock timeout), and a unit run again that had
locked the subsession first and wanted that group deadlocked with it. pg_stat_activity during
test_shown_wait_race showed it: ``UPDATE shown_wait_subsession SET n`` waiting, and the
group's ``SELECT ... FOR UPDATE`` of the members' requests waiting for that backend.

Here another writer holds the subsession row for HOLD_SECONDS while a group's last arrival
completes the wait page: its partner's wait page must answer meanwhile (before the fix it
waited the whole hold), and once the row is free the unit, run again, moves both on, counted
once each.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from tests import databases
from tests.hook_races import LOCK_TIMEOUT, browsers_of, create_session
from tests.live_server import live_server

PROJECT = Path(__file__).resolve().parent / "projects" / "guarded_tally"
# How long the other writer holds the subsession row: under the lock timeout (3 s), so that
# the last arrival's unit, run again, gets it; far longer than a wait page's answer takes.
HOLD_SECONDS = 2.5
# The partner's wait page asks this long after the last arrival's submission was sent.
ASK_AFTER_SECONDS = 0.5


@pytest.mark.slow
@pytest.mark.postgres
def test_a_completion_run_again_does_not_hold_the_group_while_the_subsession_is_busy(tmp_path):
    url = databases.database_url(tmp_path, "guarded_tally", databases.POSTGRESQL)
    env = {"GROVE_PROJECT_ROOT": str(PROJECT), "GROVE_DB_LOCK_TIMEOUT": LOCK_TIMEOUT}
    log_path = tmp_path / "server.log"
    with live_server(url, workers=2, log_path=log_path, extra_env=env) as base:
        session = create_session(base, "shown_wait", 2)
        with browsers_of(base, session) as (first, last):
            assert first.submit_and_arrive() == (303, 200)  # waits for the last
            engine = databases.engine(url)
            held, release = threading.Event(), threading.Event()

            def hold_the_subsession() -> None:
                with engine.begin() as connection:
                    connection.exec_driver_sql(
                        "SELECT id FROM shown_wait_subsession FOR NO KEY UPDATE"
                    ).all()
                    held.set()
                    release.wait(HOLD_SECONDS)

            holder = threading.Thread(target=hold_the_subsession)
            holder.start()
            try:
                assert held.wait(10)
                outcome: list[object] = []
                arriving = threading.Thread(target=lambda: outcome.append(last.submit_and_arrive()))
                arriving.start()
                time.sleep(ASK_AFTER_SECONDS)
                asked = time.monotonic()
                waiting_page = first.current()
                answered_after = time.monotonic() - asked
            finally:
                release.set()
                holder.join()
                engine.dispose()
            arriving.join()
            pages = [first.current(), last.current()]
    counts = [re.findall(r'<p id="n">(\d+)</p>', page) for page in pages]
    log = log_path.read_text()
    # Before the fix: 2.0 s, the rest of the hold (the page waited for the group's row).
    assert answered_after < 1.0, (answered_after, log[-3000:])
    assert 'id="n"' not in waiting_page  # still on the wait page then
    assert (outcome, counts) == ([(303, 200)], [["2"], ["2"]]), log[-3000:]
