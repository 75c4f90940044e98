"""A group wait page that one member does not display (``is_displayed`` False) counts that
member as arrived, as oTree 6.0.15 does (``WaitPage._tally_unvisited``, measured by the h1 and
h2 helper sessions of 2026-12-02): the member who waits there is released, and
``after_all_players_arrive`` runs once, when someone is waiting. Before, Grove moved the
skipping member on without an arrival and the other waited forever."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session
from tests.test_multiplayer import RACE_PROJECT


def _submit_intro(client: TestClient, link: str) -> str:
    intro = client.get(link, follow_redirects=True)
    assert "<p>Intro</p>" in intro.text, intro.text
    answer = client.post(intro.url.path, data={}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


@pytest.mark.parametrize("skipper_first", [False, True])
def test_the_member_who_waits_is_released_by_the_one_who_skips(
    tmp_path: Path, skipper_first: bool
) -> None:
    app = create_app(
        load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    )
    try:
        with TestClient(app) as client:
            _code, (waiter, skipper) = create_demo_session(client, "skip_wait")
            if skipper_first:
                assert "/skip_wait/Results/" in _submit_intro(client, skipper)
                assert "/skip_wait/Results/" in _submit_intro(client, waiter)
            else:
                assert "/skip_wait/Gather/" in _submit_intro(client, waiter)
                assert "/skip_wait/Results/" in _submit_intro(client, skipper)
            for link in (waiter, skipper):
                page = client.get(link, follow_redirects=True)
                assert "/skip_wait/Results/" in page.url.path
                assert '<p class="page">1</p>' in page.text  # the hook ran once
    finally:
        app.state.grove.db.dispose()


def test_a_wait_page_nobody_displays_does_not_run_after_all_players_arrive(
    tmp_path: Path,
) -> None:
    """oTree 6.0.15 runs ``after_all_players_arrive`` of a wait page only when someone waits
    on it (``_tally_unvisited``'s someone_waiting; measured with ``otree test`` on this app:
    ``group.released`` is 0 after round 1 and 1 after round 2). The last member to skip it is
    not someone waiting."""
    app = create_app(
        load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    )
    try:
        with TestClient(app) as client:
            _code, links = create_demo_session(client, "skip_all")
            for link in links:
                assert "/skip_all/Results/3" in _submit_intro(client, link)
            for link in links:
                page = client.get(link, follow_redirects=True)
                assert '<p class="page">0</p>' in page.text  # round 1: nobody waited
                client.post(page.url.path, data={}, follow_redirects=False)
            first, second = links
            assert "/skip_all/Gather/5" in _submit_intro(client, first)
            assert "/skip_all/Results/6" in _submit_intro(client, second)
            for link in links:
                page = client.get(link, follow_redirects=True)
                assert "/skip_all/Results/6" in page.url.path
                assert '<p class="page">1</p>' in page.text  # round 2: the hook ran once
    finally:
        app.state.grove.db.dispose()


def _wait_page_rows(client: TestClient, app: str) -> list[tuple[str, str]]:
    """(participant code, round) of the page-times export's rows of ``app``'s Gather."""
    answer = client.get("/api/export/page_times")
    assert answer.status_code == 200, answer.text
    rows = csv.DictReader(io.StringIO(answer.text))
    return sorted(
        (r["participant_code"], r["round_number"])
        for r in rows
        if (r["app_name"], r["page_name"]) == (app, "Gather")
    )


@pytest.mark.parametrize("skipper_first", [False, True])
def test_the_member_who_skips_has_the_wait_pages_completion_time(
    tmp_path: Path, skipper_first: bool
) -> None:
    """oTree 6.0.15 writes a page-times row for every member of the group when a wait page
    completes (``WaitPage._mark_completed_and_notify`` -> ``_mark_page_completions`` of
    ``_get_participants_for_this_waitpage(group)``, whether or not the page was displayed to
    them), and none when nobody waited there (the hook and the rows are skipped together)."""
    app = create_app(
        load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    )
    try:
        with TestClient(app) as client:
            _code, (waiter, skipper) = create_demo_session(client, "skip_wait")
            for link in (skipper, waiter) if skipper_first else (waiter, skipper):
                _submit_intro(client, link)
            codes = [client.get(link).url.path.split("/")[2] for link in (waiter, skipper)]
            assert _wait_page_rows(client, "skip_wait") == sorted((c, "1") for c in codes)

            _code, links = create_demo_session(client, "skip_all")
            for link in links:
                page = client.get(link, follow_redirects=True)
                client.post(page.url.path, data={}, follow_redirects=False)  # Intro
                page = client.get(link, follow_redirects=True)
                client.post(page.url.path, data={}, follow_redirects=False)  # Results
            for link in links:
                _submit_intro(client, link)
            codes = [client.get(link).url.path.split("/")[2] for link in links]
            # Round 1: nobody waited on Gather; round 2: both did.
            assert _wait_page_rows(client, "skip_all") == sorted((c, "2") for c in codes)
    finally:
        app.state.grove.db.dispose()
