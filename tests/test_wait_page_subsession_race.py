"""Found 2026-12-03 on PostgreSQL, fixed the same day (``server/unlocked_writes.py``): wait pages
of different groups whose after_all_players_arrive adds to a subsession field
(``group.subsession.n += 1``), each run by its group's last arrival, answer 500s (deadlock) and
503s, and leave groups stuck on the wait page (a last arrival that failed never ran the hook,
and its partner waits for it). The last arrival holds its group and its members' participant
rows; its subsession write stamps every participant of the subsession (``change_sequence``:
``grove_participant ... FOR UPDATE``), held by the other groups' submissions and arrivals, which
wait for the subsession row (``UPDATE tally_wait_subsession``): PostgreSQL's log shows cycles of
three and four processes among those two statements. Measured on two workers, 16 participants in
8 groups submitting the page before the wait page at once, lock timeout 3 s, 3 runs: 1-6
submissions answered 500 and 0-4 answered 503, 0-1 arrivals answered 503, and only 4-8 of 16
reached the page after the wait page, where n was 2-4 (not 8). With 10 participants 2 of 3 runs
failed so (n 4 and 2), one got through. SQLite (whose write lock serializes the units) brings
everyone through with n = 8; so does oTree, which runs one request at a time.

Now a unit that writes a row it did not lock locks it without waiting first and checks that
what it read is unchanged; if not, it runs again with every row it held and wrote locked
first, in LOCK ORDER. The test asserts oTree's outcome on both databases.
"""

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

PROJECT = Path(__file__).resolve().parent / "projects" / "subsession_counter"
PARTICIPANTS = 16
GROUPS = PARTICIPANTS // 2


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_last_arrivals_of_different_groups_adding_to_a_subsession_field_at_once(tmp_path, backend):
    with race_server(tmp_path, backend, PROJECT) as (base, log_path):
        session = create_session(base, "tally_wait", PARTICIPANTS)
        with browsers_of(base, session) as browsers:
            statuses = at_once([browser.submit_and_arrive for browser in browsers])
            time.sleep(1)  # the wait pages' releases reach everyone
            pages = [browser.current() for browser in browsers]
    counts = [re.findall(r'<p id="n">(\d+)</p>', page) for page in pages]
    outcome = (Counter(statuses), counts)
    expected = (Counter({(303, 200): PARTICIPANTS}), [[str(GROUPS)]] * PARTICIPANTS)
    assert outcome == expected, log_summary(log_path.read_text(), outcome)
