"""Found 2026-12-03 (review of the change sequence behind ``?since=``): a wait page's
completion writes a page-times row for every member of its group, also for a member who
skipped it (``is_displayed`` False) and is elsewhere by then, as oTree 6.0.15 does
(``WaitPage._mark_page_completions``). That row was inserted without stamping the skipping
member's participant, whose row the completing unit of work did not otherwise change, so an
incremental pull of the page times (``?since=`` the cursor of a pull made before the
completion) did not return it, nor would any later pull while that member changed nothing
more (they may be on their last page). (A completion whose after_all_players_arrive changes
the group stamps every member: tests/projects/race's skip_wait_quiet has none.) Measured
before the fix (SQLite, 1 run): the pull after the completion returned only the waiting
member's rows.

Now the rows of members the completion does not move stamp their participants
(``change_sequence.stamp_participants``), in the same transaction.
"""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session
from tests.test_multiplayer import RACE_PROJECT
from tests.test_wait_page_skipped_by_one import _submit_intro


def _page_times(client: TestClient, code: str, since: str | None = None) -> dict:
    params = {"session": code, "format": "json"}
    if since is not None:
        params["since"] = since
    answer = client.get("/api/export/page_times", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_skipping_members_row_written_at_the_completion_is_in_the_next_pull(
    tmp_path: Path,
) -> None:
    app = create_app(
        load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    )
    try:
        with TestClient(app) as client:
            code, (waiter, skipper) = create_demo_session(client, "skip_wait_quiet")
            assert "/skip_wait_quiet/Results/" in _submit_intro(client, skipper)
            skipper_code = client.get(skipper, follow_redirects=True).url.path.split("/")[2]
            before = _page_times(client, code)
            assert "/skip_wait_quiet/Results/" in _submit_intro(client, waiter)
            pulled = _page_times(client, code, since=before["next_since"])
            full = _page_times(client, code)
    finally:
        app.state.grove.db.dispose()

    def gather_rows(answer: dict) -> list[str]:
        return sorted(
            row["participant_code"] for row in answer["rows"] if row["page_name"] == "Gather"
        )

    # Both members' Gather rows exist, the skipper's written at the completion.
    assert skipper_code in gather_rows(full)
    assert skipper_code not in gather_rows(before)
    assert gather_rows(pulled) == gather_rows(full)
