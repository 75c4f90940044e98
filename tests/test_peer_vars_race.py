"""Found 2026-12-03 on PostgreSQL, fixed the same day (``server/unlocked_writes.py``): a
before_next_page that writes the participant.vars of every other participant of the round (other
groups' too: ``p.participant.vars["seen"] += 1`` for each of ``subsession.get_players()``), run
by participants of different groups at once, answers 500s (deadlock) and 503s (database busy).
Each submission locks its group and its own participant row, then the hook's writes lock the
others' rows (``UPDATE grove_participant SET vars=..., changed_seq=...``) in the app's order
while they hold theirs: a deadlock between every two submitters, detected after PostgreSQL's
deadlock_timeout (1 s) each time, which ``Database.run``'s five attempts (2-100 ms apart) often
do not get out of before a wait passes the lock timeout. Measured on two workers, 10
participants in 5 groups, lock timeout 3 s, 2 runs: 3 of 10 answered 303, 5 answered 503 and 2
answered 500; the vars of those answered were all counted (nothing acknowledged was lost). With
4 participants in 2 groups all 4 get through, in 2.7-4.7 s (3 runs), on retries. SQLite (whose
write lock serializes the units) answers 303 to all and counts 9 for everyone; so does oTree,
which runs one request at a time.

Now a unit that writes a row it did not lock locks it without waiting first and checks that
what it read is unchanged; if not, it runs again with every row it held and wrote locked
first, in LOCK ORDER; a session's change stamps the session's row, not every participant's.
The test asserts oTree's outcome on both databases.
"""

from __future__ import annotations

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
    session_detail,
)

PROJECT = Path(__file__).resolve().parent / "projects" / "peer_vars"
PARTICIPANTS = 10


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_hooks_writing_other_groups_participant_vars_while_they_submit(tmp_path, backend):
    with race_server(tmp_path, backend, PROJECT) as (base, log_path):
        session = create_session(base, "peers", PARTICIPANTS)
        with browsers_of(base, session) as browsers:
            statuses = at_once([browser.submit for browser in browsers])
        after = session_detail(base, session["code"])
    participant_vars = [p["vars"] for p in after["participants"]]
    outcome = (Counter(statuses), participant_vars)
    expected = [{"seen": PARTICIPANTS - 1, "greeted": True}] * PARTICIPANTS
    assert outcome == (Counter({303: PARTICIPANTS}), expected), log_summary(
        log_path.read_text(), outcome
    )
