"""Many groups' last arrivals at once on a chain of wait pages, while the members waiting
there reload their page and ask its status, on two workers: the completions move every member
on without a deadlock, and every request is answered.

The ``chain`` project (tests/projects/relay): Intro, First (each group's wait page), Second
(the whole subsession's, the last page). oTree 6.0.15 passes every member through both wait
pages (oTree's docs, "Wait pages": a wait page lets its group, or with ``wait_for_all_groups``
the whole subsession, continue once all have arrived) and records one page-times row for each
member at each wait page's completion (``WaitPage._mark_page_completions``)."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from server.db import normalise_database_url
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

RELAY_PROJECT = Path(__file__).resolve().parent / "projects" / "relay"
REST_KEY = "chain-race-key"
GROUPS = 12
RELOADS = 10


def _start_and_submit_intro(client: httpx.Client, participant: str) -> str:
    intro = client.get(f"/InitializeParticipant/{participant}", follow_redirects=True)
    assert "<p>Intro</p>" in intro.text, intro.text
    answer = client.post(str(intro.url), data={}, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["location"]


def _csv(client: httpx.Client, path: str) -> list[dict[str, str]]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))


def _deadlocks(url: str) -> int:
    """PostgreSQL's count of transactions it aborted as deadlocked in this database."""
    engine = sa.create_engine(normalise_database_url(url))
    try:
        with engine.connect() as connection:
            return int(
                connection.scalar(
                    sa.text(
                        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                    )
                )
            )
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_last_arrivals_of_many_groups_while_the_waiting_reload(
    tmp_path: Path, backend: str
) -> None:
    """Each group's first member is on First and reloads it and asks its status, over and
    over; at the same moment each group's second member submits Intro, completing First for
    their group (the last of them completes Second too). Every request is answered (no 503 of
    a lock waited for too long), everyone finishes with one page-times row per wait page, and
    on PostgreSQL no transaction was aborted as a deadlock: a waiting member's request that
    finds them moved on while it waited for their group's lock does not keep their row locked
    while it waits for the next wait page's (LOCK ORDER, server/db.py)."""
    url = databases.database_url(tmp_path, "chain", backend)
    env = {"GROVE_PROJECT_ROOT": str(RELAY_PROJECT), "OTREE_REST_KEY": REST_KEY}
    log_path = tmp_path / "server.log"
    failures: list[tuple[str, int]] = []
    with (
        live_server(url, workers=2, extra_env=env, log_path=log_path) as base,
        httpx.Client(base_url=base, headers={"otree-rest-key": REST_KEY}, timeout=60) as client,
    ):
        session = client.post(
            "/api/sessions/",
            json={"session_config_name": "chain", "num_participants": 2 * GROUPS},
        ).json()["code"]
        codes = [p["code"] for p in client.get(f"/api/sessions/{session}").json()["participants"]]
        waiting, completing = codes[0::2], codes[1::2]
        wait_urls = {code: _start_and_submit_intro(client, code) for code in waiting}
        assert all("/chain/First/" in url for url in wait_urls.values())
        start = threading.Barrier(2 * GROUPS)

        def reload(code: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as browser:
                start.wait()
                for _ in range(RELOADS):
                    for answer in (
                        browser.get(wait_urls[code], follow_redirects=True),
                        browser.get(wait_urls[code] + "/status"),
                    ):
                        if answer.status_code != 200:
                            failures.append((str(answer.url), answer.status_code))

        def complete(code: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as browser:
                start.wait()
                _start_and_submit_intro(browser, code)

        threads = [threading.Thread(target=reload, args=(c,)) for c in waiting]
        threads += [threading.Thread(target=complete, args=(c,)) for c in completing]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        participants: Any = client.get(f"/api/sessions/{session}").json()["participants"]
        assert all(p["finished"] for p in participants)
        rows = [r for r in _csv(client, "/api/export/page_times") if r["app_name"] == "chain"]
        for page in ("First", "Second"):
            passed = sorted(r["participant_code"] for r in rows if r["page_name"] == page)
            assert passed == sorted(codes), page
    assert failures == []
    if backend == databases.POSTGRESQL:
        assert _deadlocks(url) == 0
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log, log
