"""Found 2026-12-03 on PostgreSQL, fixed the same day (``server/unlocked_writes.py``): a hook that
writes its group partner's participant.vars (``partner.participant.vars["seen"] += 1`` in
before_next_page) overwrites vars that ``POST /api/participant_vars/<code>`` set on that partner
meanwhile and answered 200. The submission locks the group and its own participant only: it
reads the partner's row unlocked and writes the whole vars column back. The REST post locks only
the participant's row (``_LOCKED_BY_CODE``), not the group, so it does not wait for the hook;
the admin API's ``players/fields`` locks as a page submission does (group, then participant) and
was never lost. Measured on two workers, 6 participants in 3 groups, each submitting while a
REST post and an admin fields change for them run at once, lock timeout 3 s, 3 runs: every
request answered (303, 200), no deadlock, and 2, 3 and 2 of the 6 posted ``api`` vars were
missing. SQLite (whose write lock serializes the units) keeps them all; so does oTree, which
runs one request at a time.

Now a unit that writes a row it did not lock locks it without waiting first and checks that
what it read is unchanged; if not, it runs again with every row it held and wrote locked
first, in LOCK ORDER. The test asserts oTree's outcome on both databases.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.hook_races import (
    REST_HEADERS,
    REST_KEY,
    at_once,
    backends,
    browsers_of,
    create_session,
    log_summary,
    race_server,
    session_detail,
)

PROJECT = Path(__file__).resolve().parent / "projects" / "member_vars"
PARTICIPANTS = 6


def _post_vars(base: str, code: str) -> int:
    answer = httpx.post(
        f"{base}/api/participant_vars/{code}",
        json={"vars": {"api": 1}},
        headers=REST_HEADERS,
        timeout=60,
    )
    return answer.status_code


def _set_field(base: str, session_code: str, code: str) -> int:
    answer = httpx.patch(
        f"{base}/admin/api/v1/session/{session_code}/players/fields/",
        json={"unames": [code], "fields": {"treatment": "B"}},
        headers=REST_HEADERS,
        timeout=60,
    )
    return answer.status_code


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends())
def test_partner_hooks_and_apis_writing_a_participants_vars_at_once(tmp_path, backend):
    with race_server(tmp_path, backend, PROJECT, OTREE_REST_KEY=REST_KEY) as (base, log_path):
        session = create_session(base, "members", PARTICIPANTS)
        codes = [p["code"] for p in session["participants"]]
        posts = [lambda code=code: _post_vars(base, code) for code in codes]
        fields = [lambda code=code: _set_field(base, session["code"], code) for code in codes]
        with browsers_of(base, session) as browsers:
            statuses = at_once([browser.submit for browser in browsers] + posts + fields)
        after = session_detail(base, session["code"])
    outcome = (
        Counter(statuses[:PARTICIPANTS]),
        Counter(statuses[PARTICIPANTS:]),
        [p["vars"] for p in after["participants"]],
    )
    expected_vars = {"seen": 1, "greeted": True, "api": 1, "treatment": "B"}
    expected = (
        Counter({303: PARTICIPANTS}),
        Counter({200: 2 * PARTICIPANTS}),
        [expected_vars] * PARTICIPANTS,
    )
    assert outcome == expected, log_summary(log_path.read_text(), outcome)
