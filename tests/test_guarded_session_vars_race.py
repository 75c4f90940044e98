"""Found 2026-12-03 (review of what a unit of work run again leaves behind) on PostgreSQL: a
before_next_page that adds to session.vars["n"] (oTree's counter), then creates an ExtraModel
row inside a ``try: ... except Exception: pass`` (a best-effort log), while the experimenter
changes the session's description over the admin API. The description's UPDATE bumps the
session row's version (``row_version``); the hook's flush finds the row free and its vars
unchanged (server/unlocked_writes.py compares only the columns the unit changed), so its
UPDATE names the version it read, matches no row, and SQLAlchemy raises StaleDataError inside
the hook's ``try``. The hook swallows it; the session's transaction is then inactive and the
page completion's next statement fails with PendingRollbackError: a 500, not a run again
(``Database.run`` runs a StaleDataError again only when it reaches it). oTree, one request at
a time, and Grove on SQLite answer 303 and count 1. Measured before the fix (1 run): 500,
"Can't operate on closed transaction ... UPDATE statement on table 'grove_session' expected
to update 1 row(s); 0 were matched", the count left at 0.

Now server/unlocked_writes.py compares the session's version too: the changed row is run
again as RunAgainWithLocks (noted where it is raised, whatever the hook does with it), and
the participant's submission answers 303 with the count at 1 (2 runs).

The second test (found the same day): a deadlock that PostgreSQL detects inside a flush (two
participants each writing their own player row, then the other's: player rows are written
without the check above) and that the hook's ``try`` swallows. The engine's ``handle_error``
notes it, but the flush's failure closes the session's transaction, and the page completion's
next statement raised SQLAlchemy's InvalidRequestError ("Can't operate on closed
transaction"), which ``Database.run`` did not run again: measured before the fix (1 run), one
submission 303, the other 500 with its count 0. Now any failure of a unit whose attempt was
noted to be run again runs it again: both 303, both counts 1 (2 runs).
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.hook_races import (
    REST_HEADERS,
    REST_KEY,
    Browser,
    at_once,
    backends,
    browsers_of,
    create_session,
    log_summary,
    race_server,
)

PROJECT = Path(__file__).resolve().parent / "projects" / "guarded_tally"


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_a_session_changed_meanwhile_under_a_hook_that_swallows_its_flush(tmp_path, backend):
    """The participant's hook reads session.vars and takes a second; meanwhile the session's
    description is changed (committed); then the hook writes session.vars and its ExtraModel
    creation flushes it."""
    with race_server(tmp_path, backend, PROJECT, OTREE_REST_KEY=REST_KEY) as (base, log_path):
        session = create_session(base, "guarded_vars", 1)
        code = session["code"]
        browser = Browser(base, session["participants"][0]["code"]).start()
        described: list[int] = []

        def describe() -> None:
            time.sleep(0.4)  # inside the hook's second
            answer = httpx.patch(
                f"{base}/admin/api/v1/session/{code}/description/",
                json={"description": "pilot"},
                headers=REST_HEADERS,
                timeout=60,
            )
            described.append(answer.status_code)

        changer = threading.Thread(target=describe)
        changer.start()
        status = browser.submit()
        changer.join()
        page = browser.current()
        browser.close()
    found = re.findall(r'<p id="n">(\d+)</p>', page)
    outcome = (status, described, found)
    assert outcome == (303, [200], ["1"]), log_summary(log_path.read_text(), outcome)


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_a_deadlock_in_a_flush_a_hook_swallows_is_run_again(tmp_path, backend):
    """Each of two participants (each alone in a group) writes their own player row, then the
    other's: PostgreSQL aborts one unit as a deadlock inside the flush of the second write,
    which the hook's ``try`` swallows."""
    with race_server(tmp_path, backend, PROJECT) as (base, log_path):
        session = create_session(base, "guarded_peers", 2)
        with browsers_of(base, session) as browsers:
            statuses = at_once([browser.submit for browser in browsers])
            pages = [browser.current() for browser in browsers]
    counts = [re.findall(r'<p id="n">(\d+)</p>', page) for page in pages]
    outcome = (sorted(statuses), counts)
    assert outcome == ([303, 303], [["1"], ["1"]]), log_summary(log_path.read_text(), outcome)
