"""Found 2026-12-03 on PostgreSQL, fixed the same day (``server/unlocked_writes.py``): participants
of different groups who add to a subsession field at the same time (``subsession.n += 1`` in
before_next_page: a round's total kept on the subsession) get 500s (deadlock) and 503s (database
busy). A page submission locks its group, then its own participant; the hook's write of the
subsession row then stamps every participant of the subsession
(``change_sequence._stamp_related``: ``SELECT ... FROM grove_participant WHERE id IN (the
subsession's players) ORDER BY id FOR UPDATE``), which waits for the other submitters' own
participant rows, while they wait for the subsession row (``UPDATE tally_subsession``): a
deadlock that ``Database.run``'s five attempts often do not get out of. Measured on two workers,
10 participants in 5 groups, lock timeout 3 s, 3 runs: 3-5 of 10 answered 303, 4-5 answered 503
and 1-2 answered 500; subsession.n ended equal to the number of 303s (the deadlock aborts the
second writer before it commits a stale value, so nothing acknowledged was lost). With the
default 5 s: 3-7 answered 303 (2 runs). SQLite (whose write lock serializes the units) answers
303 to all and counts 10; so does oTree, which runs one request at a time.

Now a unit that writes a row it did not lock locks it without waiting first and checks that
what it read is unchanged; if not, it runs again with every row it held and wrote locked
first, in LOCK ORDER; a session's change stamps the session's row, not every participant's.
The test asserts oTree's outcome on both databases.
"""

from __future__ import annotations

import re
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

PROJECT = Path(__file__).resolve().parent / "projects" / "subsession_counter"
PARTICIPANTS = 10


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_participants_of_different_groups_adding_to_a_subsession_field_at_once(tmp_path, backend):
    with race_server(tmp_path, backend, PROJECT) as (base, log_path):
        session = create_session(base, "tally", PARTICIPANTS)
        with browsers_of(base, session) as browsers:
            statuses = at_once([browser.submit for browser in browsers])
            page = browsers[0].current()
    [n] = re.findall(r'<p id="n">(\d+)</p>', page)
    outcome = (Counter(statuses), int(n))
    assert outcome == (Counter({303: PARTICIPANTS}), PARTICIPANTS), log_summary(
        log_path.read_text(), outcome
    )
