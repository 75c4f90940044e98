"""One participant's page posted twice at the same instant (two tabs, a double click) on a
server with two workers, on SQLite and on PostgreSQL.

Exactly one of the two submissions applies: both requests are answered 303 with the same next
page, the stored answer is one of the two, and before_next_page ran once (its count in a field
and its list in participant.vars both say so). The hook holds its unit of work open for 50 ms,
so the second request usually arrives while the first still has the participant locked.
"""

from __future__ import annotations

import threading

import httpx
import pytest
import sqlalchemy as sa

from server.db import Database
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server
from tests.test_multiplayer import RACE_PROJECT

PARTICIPANTS = 12
TAB_ANSWERS = ("3", "7")


def _post_from_two_tabs(url: str) -> list[httpx.Response]:
    """POST the page from two browsers' worth of connections, released together."""
    barrier = threading.Barrier(len(TAB_ANSWERS))
    answers: list[httpx.Response | None] = [None] * len(TAB_ANSWERS)

    def tab(index: int) -> None:
        with httpx.Client(timeout=60) as browser:  # its own connection: either worker
            barrier.wait()
            answers[index] = browser.post(
                url, data={"answer": TAB_ANSWERS[index]}, follow_redirects=False
            )

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(len(TAB_ANSWERS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_a_page_posted_twice_at_once_is_submitted_once(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "double", backend)
    env = {"GROVE_PROJECT_ROOT": str(RACE_PROJECT)}
    failures: list[str] = []
    with live_server(database_url, workers=2, extra_env=env) as base:
        created = httpx.post(
            f"{base}/api/sessions/",
            json={"session_config_name": "double", "num_participants": PARTICIPANTS},
            timeout=60,
        )
        assert created.status_code == 200, created.text
        code = created.json()["code"]
        people = httpx.get(f"{base}/api/sessions/{code}", timeout=60).json()["participants"]
        for person in people:
            start = httpx.get(
                f"{base}/InitializeParticipant/{person['code']}", follow_redirects=True
            )
            assert "/double/Submit/1" in str(start.url)
            answers = _post_from_two_tabs(str(start.url))
            statuses = [answer.status_code for answer in answers]
            locations = {answer.headers.get("location") for answer in answers}
            if statuses != [303, 303] or len(locations) != 1:
                failures.append(f"{person['code']}: {statuses} to {sorted(map(str, locations))}")
                continue
            [location] = locations
            if "/double/Next/2" not in location:
                failures.append(f"{person['code']}: both sent to {location}")
                continue
            page = httpx.get(base + location, timeout=60)
            if '<p class="runs">1</p>' not in page.text:
                failures.append(f"{person['code']}: the next page shows {page.text!r}")
        detail = httpx.get(f"{base}/api/sessions/{code}", timeout=60).json()
    assert not failures, failures
    seen_by_hook = {
        person["code"]: person["vars"].get("answers_seen_by_hook")
        for person in detail["participants"]
    }
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT gp.code, p.answer, p.hook_runs FROM double_player p "
                    "JOIN grove_participant gp ON gp.id = p.participant_id"
                )
            ).all()
    finally:
        database.dispose()
    assert len(rows) == PARTICIPANTS
    for participant_code, answer, hook_runs in rows:
        assert hook_runs == 1, participant_code
        assert str(answer) in TAB_ANSWERS, participant_code
        assert seen_by_hook[participant_code] == [answer], participant_code
