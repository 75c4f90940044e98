"""Found 2026-12-03 (review of server/unlocked_writes.py) on PostgreSQL: a before_next_page
that adds to a subsession field (oTree's counter), then creates an ExtraModel row inside a
``try: ... except Exception: pass`` (a best-effort log). The creation flushes the subsession's
change; when another participant's unit holds the row, the flush's ``FOR NO KEY UPDATE NOWAIT``
fails and aborts the transaction, RunAgainWithLocks is raised inside the hook's ``try`` and
swallowed, and the page completion's next statement fails with InFailedSqlTransaction: a 500,
not a run again. Measured on two workers, 10 participants, lock timeout 3 s (1 run): 2
answered 303, 8 answered 500; at 0d9121a 2 x 303, 6 x 500 (a swallowed deadlock, then
"Can't operate on closed transaction"), 2 x 503 (1 run). Every count equalled the number of
303s. The second test makes the first participant's flush come after another group's unit
committed the count (the row free but changed): it too answered 500 with InFailedSqlTransaction
(1 run). A changed row raises RunAgainWithLocks without an SQL error, and its rows are noted
as held before they are checked: swallowed, it would let the next flush write the row
unchecked. oTree, which runs one request at a time, answers 303 to all and counts 10; so does
Grove on SQLite.

Now the reason a unit must run again is noted in its session where it is raised
(``db.note_run_again``: RunAgainWithLocks, and a deadlock or serialization failure through the
engine's ``handle_error``), and ``Database.run`` runs it again whatever the hook did with the
exception: all 303 and every count kept (2 runs of each test).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.hook_races import (
    Browser,
    at_once,
    backends,
    browsers_of,
    create_session,
    log_summary,
    race_server,
)

PROJECT = Path(__file__).resolve().parent / "projects" / "guarded_tally"
PARTICIPANTS = 10


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_a_hook_that_swallows_an_exception_of_its_flush_loses_no_count(tmp_path, backend):
    with race_server(tmp_path, backend, PROJECT) as (base, log_path):
        session = create_session(base, "guarded", PARTICIPANTS)
        with browsers_of(base, session) as browsers:
            statuses = at_once([browser.submit for browser in browsers])
            page = browsers[0].current()
    [n] = re.findall(r'<p id="n">(\d+)</p>', page)
    outcome = (Counter(statuses), int(n))
    assert outcome == (Counter({303: PARTICIPANTS}), PARTICIPANTS), log_summary(
        log_path.read_text(), outcome
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_a_hook_that_swallows_a_changed_rows_run_again_loses_no_count(tmp_path, backend):
    """The first participant reads the count and takes a second; the second participant reads
    it, adds one and is answered meanwhile (another group's: its unit does not wait for the
    first one's group). The first one's flush finds the row free but changed:
    RunAgainWithLocks, swallowed by the hook's ``try``; then the commit's flush."""
    with race_server(tmp_path, backend, PROJECT) as (base, log_path):
        session = create_session(base, "guarded_slow_first", 4)
        # Participants 1 and 3: of different groups (a submission locks its group).
        first, _, second, _ = session["participants"]
        first, second = Browser(base, first["code"]).start(), Browser(base, second["code"]).start()

        def second_later() -> int:
            time.sleep(0.3)
            return second.submit()

        statuses = at_once([first.submit, second_later])
        page = first.current()
        first.close()
        second.close()
    [n] = re.findall(r'<p id="n">(\d+)</p>', page)
    outcome = (statuses, int(n))
    assert outcome == ([303, 303], 2), log_summary(log_path.read_text(), outcome)
