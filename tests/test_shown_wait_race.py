"""A wait page's last arrival moves its members on in a savepoint that undoes the move when
app code raises (``flow._moved_in_savepoint``), which catches every exception but a database
error. The next page's is_displayed adds one to a subsession field (written without its lock):
a RunAgainWithLocks raised there was taken for the app's own failure before de3712b.

Measured on PostgreSQL, two workers, 16 participants in 8 groups, lock timeout 3 s: every run
failed, with requests answered 503 ("another writer held a row this request needs for more
than 3 s"): at 312ead6 4 and 8 of 16 (2 runs; in the second, 2 Start submissions refused and
their partners left on the wait page, n 12 of 16), at de3712b 2-7 of 16 (4 runs; in one, 4
Start submissions refused, n 8). Which row waited is not known yet (the retries log at INFO).
SQLite, like oTree, brings all 16 through with n 16. Recorded as an xfail on PostgreSQL, not
strict: on an idle machine (load 1-3, 2026-12-03 15:37Z) one run of three brought all 16
through, so a strict marker would fail CI at random; the fault still shows in most runs."""

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


KNOWN_FAULT = "last arrivals' is_displayed writing the subsession: 503s"


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends(KNOWN_FAULT, strict=False))
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
