"""Found 2026-12-03 on PostgreSQL, fixed the same day (``server/unlocked_writes.py``): a
before_next_page that adds to a field of every group of the round (``g.hits += 1`` for each of
``subsession.get_groups()``: other groups' rows too), run by participants of different groups at
once, answers 500s (deadlock) and 503s (database busy). Each submission locks its own group's
row and its own participant, then the hook updates the other groups' rows (``UPDATE groups_group
SET hits=...``), each held by that group's submitter, and each group write stamps the group's
members (``change_sequence``: their grove_participant rows FOR UPDATE), held by them: the
deadlocks in PostgreSQL's log are among those two statements and the group lock of a submission
(``SELECT groups_group.id ... FOR UPDATE``). Measured on two workers, 10 participants in 5
groups, lock timeout 3 s, 2 runs: 1-2 of 10 answered 303, 5-6 answered 500 and 3 answered 503;
every group's hits equalled the number of 303s (nothing acknowledged was lost). With 4
participants in 2 groups all 4 got through on retries, in 2.7-4.6 s (2 runs). SQLite (whose
write lock serializes the units) answers 303 to all and counts 10 in every group; so does oTree,
which runs one request at a time.

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

PROJECT = Path(__file__).resolve().parent / "projects" / "group_tally"
PARTICIPANTS = 10
GROUPS = PARTICIPANTS // 2


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_hooks_adding_to_every_groups_field_while_those_groups_submit(tmp_path, backend):
    with race_server(tmp_path, backend, PROJECT) as (base, log_path):
        session = create_session(base, "groups", PARTICIPANTS)
        with browsers_of(base, session) as browsers:
            statuses = at_once([browser.submit for browser in browsers])
            page = browsers[0].current()
    [hits] = re.findall(r'<p id="n">([\d,]+)</p>', page)
    outcome = (Counter(statuses), hits)
    expected = (Counter({303: PARTICIPANTS}), ",".join([str(PARTICIPANTS)] * GROUPS))
    assert outcome == expected, log_summary(log_path.read_text(), outcome)
