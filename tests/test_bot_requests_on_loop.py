"""A bot run's participant requests (the start URL, each page, the page after the last) do
their blocking work (the unit of work, the rendering) on the runner's own event loop, not in
a worker thread (issue 20): the runner is the app's only client, and a thread hop per request
only cost CPU (GIL hand-overs among up to one thread per participant) and time."""

from __future__ import annotations

import threading
from typing import Any

from server import participant_pages
from server.bots.runner import run_bots
from server.config import load_settings
from tests.conftest import REPO_ROOT


def test_a_bot_runs_its_page_requests_on_its_own_thread(monkeypatch):
    threads: list[int] = []
    for name in ("start_participant", "show_page", "submit_page", "has_finished"):
        original = getattr(participant_pages, name)

        def recording(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            threads.append(threading.get_ident())
            return _original(*args, **kwargs)

        monkeypatch.setattr(participant_pages, name, recording)
    results = run_bots(load_settings(REPO_ROOT, {}), "public_goods", 3)
    assert results, results
    assert all(result.ok for result in results), [result.error for result in results]
    participants = sum(result.num_participants for result in results)
    assert len(threads) >= 2 * sum(result.pages for result in results) + 2 * participants
    assert set(threads) == {threading.get_ident()}
