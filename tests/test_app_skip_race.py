"""The last member reaching a wait page and a member skipping past it (``app_after_this_page``)
at the same instant, on a server with two workers, on SQLite and on PostgreSQL.

``tests/projects/app_skip`` (tests/test_app_skip.py): participant 1 picks 1 and waits at the
game's wait page; then participant 2's pick of 2 and participant 3's "No" to consent, which
skips the game, are posted together. Whichever commits second must complete the wait page:
both pickers reach Results showing the sum 3 from 2 players (oTree's rule: a participant past
a wait page counts as arrived; the one arriving last, or skipping last while someone waits,
runs ``after_all_players_arrive``). Nobody is left waiting and no request fails.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

PROJECT = Path(__file__).resolve().parent / "projects" / "app_skip"
SESSIONS = 6
CONSENT = {"heard_from": "", "nickname": ""}


def _post_together(posts: list[tuple[str, dict[str, str]]]) -> list[httpx.Response]:
    """POST each (url, form) from its own connection, released at the same instant."""
    barrier = threading.Barrier(len(posts))
    answers: list[httpx.Response | None] = [None] * len(posts)

    def send(index: int) -> None:
        url, form = posts[index]
        with httpx.Client(timeout=60) as browser:
            barrier.wait()
            answers[index] = browser.post(url, data=form, follow_redirects=False)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def _start(base: str, code: str) -> str:
    page = httpx.get(f"{base}/InitializeParticipant/{code}", follow_redirects=True, timeout=60)
    assert page.status_code == 200, page.text
    return str(page.url)


def _post(url: str, form: dict[str, str]) -> str:
    answer = httpx.post(url, data=form, follow_redirects=False, timeout=60)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_the_last_arrival_and_a_skipper_at_once_release_the_wait_page(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "skip_race", backend)
    failures: list[str] = []
    with live_server(
        database_url, workers=2, extra_env={"GROVE_PROJECT_ROOT": str(PROJECT)}
    ) as base:
        for _ in range(SESSIONS):
            created = httpx.post(
                f"{base}/api/sessions/",
                json={"session_config_name": "skip", "num_participants": 3},
                timeout=60,
            )
            assert created.status_code == 200, created.text
            code = created.json()["code"]
            people = httpx.get(f"{base}/api/sessions/{code}", timeout=60).json()["participants"]
            first, second, decliner = (_start(base, p["code"]) for p in people)
            pick_first = base + _post(first, {"agree": "True", **CONSENT})
            waiting = base + _post(pick_first, {"number": "1"})
            pick_second = base + _post(second, {"agree": "True", **CONSENT})
            answers = _post_together(
                [(pick_second, {"number": "2"}), (decliner, {"agree": "False", **CONSENT})]
            )
            if [a.status_code for a in answers] != [303, 303]:
                failures.append(f"{code}: {[(a.status_code, a.text[:200]) for a in answers]}")
                continue
            for url in (waiting, base + answers[0].headers["location"]):
                page = httpx.get(url, follow_redirects=True, timeout=60)
                if '<p id="total">3 from 2 players</p>' not in page.text:
                    failures.append(f"{code}: {page.url} shows {page.text[:300]!r}")
    assert not failures, failures
