"""A wait page's last arrival moves its members on in a savepoint that undoes the move when
app code raises (``flow._moved_in_savepoint``), which catches every exception but a database
error. The next page's is_displayed adds one to a subsession field (written without its lock):
a RunAgainWithLocks raised there was taken for the app's own failure before de3712b.

Measured on PostgreSQL, two workers, 16 participants in 8 groups, lock timeout 3 s: every run
failed, with requests answered 503 ("another writer held a row this request needs for more
than 3 s"): at 312ead6 4 and 8 of 16 (2 runs; in the second, 2 Start submissions refused and
their partners left on the wait page, n 12 of 16), at de3712b 2-7 of 16 (4 runs; in one, 4
Start submissions refused, n 8). SQLite, like oTree, brings all 16 through with n 16.

The cause (pg_stat_activity sampled every 20 ms during runs): the last arrival's savepoint
took the RunAgainWithLocks of its members' move for the app's failure and moved them again
one at a time, and the subsession row, noted as held by the failed check though never
locked, went out in a plain ``UPDATE shown_wait_subsession SET n`` that waited for its holder
while the unit held its group and members; the members' requests queued on the group
(``SELECT shown_wait_group.id ... FOR UPDATE``) until the lock timeout, and units run again,
which lock the subsession first, deadlocked with it (``deadlock detected`` once a second).
Now such an attempt ends at once and writes nothing more (tests/test_wait_completion_run_again.py
shows it alone). Measured after the fix, on the 2-core machine shared with other test runs:
7 runs of 7 of this scenario brought all 16 through with n 16 at load 21-23, and the test
passed 4 runs of 5 at load 20-28 while test_wait_page_subsession_race ran alongside (whose
SQLite half failed 1 run of 3 there too), and 5 of 5 at load 9-12 while
test_wait_completion_run_again ran alongside. What is left is the counter's own queue: units run
again lock the subsession row first and the 8 groups' last arrivals take it one after
another, as oTree runs one request at a time; the longest lock wait sampled was 2.7 s of the
3 s lock timeout, at load 21."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.hook_races import (
    at_once,
    backends,
    browsers_of,
    create_session,
    log_summary,
    race_server,
)

PROJECT = Path(__file__).resolve().parent / "projects" / "guarded_tally"
PARTICIPANTS = 16


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_is_displayed_after_a_wait_page_adding_to_a_subsession_field(tmp_path, backend):
    with race_server(tmp_path, backend, PROJECT) as (base, log_path):
        session = create_session(base, "shown_wait", PARTICIPANTS)
        with browsers_of(base, session) as browsers:
            statuses = at_once([browser.submit_and_arrive for browser in browsers])
            time.sleep(1)  # the wait pages' releases reach everyone
            pages = [browser.current() for browser in browsers]
    counts = [re.findall(r'<p id="n">(\d+)</p>', page) for page in pages]
    outcome = (Counter(statuses), counts)
    expected = (Counter({(303, 200): PARTICIPANTS}), [[str(PARTICIPANTS)]] * PARTICIPANTS)
    assert outcome == expected, log_summary(log_path.read_text(), outcome)
