"""The lock order on two workers: a wait page's visitors never deadlock the last arrival.

The deadlock this guards against (seen on PostgreSQL 15 with 2 workers): two players of a
public-goods group wait on the wait page, their browsers reloading it, while the third submits
the contribution that completes the group. The wait page's GET used to lock its participant,
then the group; the last submission held the group and then, by setting every player's
payoff, wanted the waiting participants' rows. PostgreSQL aborted one transaction with
DeadlockDetected and the last player saw a server error.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.db import Database
from server.models.core import ExperimentSession, Participant
from server.models.urn import UrnStudy
from server.randomization.service import get_study
from server.sessions import get_participant, get_session
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

GROUPS = 8


def _start_group(base: str) -> list[str]:
    created = httpx.post(
        f"{base}/api/sessions/",
        json={"session_config_name": "public_goods", "num_participants": 3},
        timeout=60,
    )
    assert created.status_code == 200, created.text
    detail = httpx.get(f"{base}/api/sessions/{created.json()['code']}", timeout=60).json()
    codes = [p["code"] for p in sorted(detail["participants"], key=lambda p: p["id_in_session"])]
    return [
        str(httpx.get(f"{base}/InitializeParticipant/{code}", follow_redirects=True).url)
        for code in codes
    ]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_waiting_players_reloading_never_deadlock_the_last_arrival(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "locks", backend)
    failures: list[str] = []
    with live_server(database_url, workers=2) as base:
        for _ in range(GROUPS):
            urls = _start_group(base)
            wait_urls = []
            for url in urls[:2]:
                response = httpx.post(url, data={"contribution": "50"}, follow_redirects=False)
                assert response.status_code == 303, response.text
                wait_urls.append(base + response.headers["location"])
            done = threading.Event()

            def reload_wait_page(url: str, done: threading.Event = done) -> None:
                with httpx.Client(timeout=60) as browser:
                    while not done.is_set():
                        page = browser.get(url, follow_redirects=False)
                        if page.status_code >= 500:
                            failures.append(f"wait page GET {page.status_code}")
                        if page.status_code == 303:
                            return

            reloaders = [threading.Thread(target=reload_wait_page, args=(u,)) for u in wait_urls]
            for thread in reloaders:
                thread.start()
            time.sleep(0.05)
            last = httpx.post(
                urls[2], data={"contribution": "20"}, follow_redirects=True, timeout=60
            )
            done.set()
            for thread in reloaders:
                thread.join()
            if last.status_code != 200 or "/public_goods/Results/" not in str(last.url):
                failures.append(f"last arrival: {last.status_code} at {last.url}")
            for url in wait_urls:
                page = httpx.get(url, follow_redirects=True)
                if "/public_goods/Results/" not in str(page.url):
                    failures.append(f"a waiting player is stuck at {page.url}")
    assert not failures, failures
    database = Database(database_url)
    with database.engine.connect() as connection:
        payoffs = (
            connection.execute(sa.text("SELECT payoff FROM grove_participant ORDER BY id"))
            .scalars()
            .all()
        )
    database.dispose()
    # A share of 120 x 1.8 / 3 = 72: 100 - 50 + 72 for the two who gave 50, 100 - 20 + 72.
    assert [round(float(p)) for p in payoffs] == [122, 122, 152] * GROUPS


@pytest.mark.slow
@pytest.mark.postgres
def test_a_unit_of_work_aborted_as_a_deadlock_runs_again(postgres_url):
    """Two units of work lock two rows in opposite orders: PostgreSQL aborts one as a
    deadlock, Database.run runs it again, and both commit exactly once."""
    database = Database(postgres_url)
    try:
        with database.transaction() as db:
            db.execute(sa.text("CREATE TABLE pair (id integer PRIMARY KEY, n integer)"))
            db.execute(sa.text("INSERT INTO pair VALUES (1, 0), (2, 0)"))
        both_hold_one = threading.Barrier(2, timeout=10)
        attempts = {"a": 0, "b": 0}

        def work(name: str, first: int, second: int) -> None:
            def unit(db) -> None:
                attempts[name] += 1
                db.execute(sa.text("UPDATE pair SET n = n + 1 WHERE id = :i"), {"i": first})
                if attempts[name] == 1:
                    both_hold_one.wait()
                db.execute(sa.text("UPDATE pair SET n = n + 1 WHERE id = :i"), {"i": second})

            database.run(unit)

        threads = [
            threading.Thread(target=work, args=("a", 1, 2)),
            threading.Thread(target=work, args=("b", 2, 1)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with database.read() as db:
            counts = db.execute(sa.text("SELECT n FROM pair ORDER BY id")).scalars().all()
        assert counts == [2, 2]  # each unit's two updates, once each
        assert sorted(attempts.values()) == [1, 2]  # one of them ran again
    finally:
        database.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_row_locked_after_an_earlier_read_is_read_afresh(settings, postgres_url):
    """A unit of work that reads a row and later locks it (the urn API resolves the study by
    name before its draw) must see what another transaction committed in between. PostgreSQL
    grants the lock on the newest version, but the ORM keeps the object it loaded first unless
    the locking query refreshes it: 151 of 200 concurrent draws on two workers failed on the
    study's (study, sequence) key before get_study did (test_urn_api.py)."""
    app = create_app(settings.with_changes(database_url=postgres_url))
    database = app.state.grove.db
    try:
        with TestClient(app) as client:
            created = client.post(
                "/api/sessions/",
                json={"session_config_name": "randomized_trial", "num_participants": 1},
            )
            code = created.json()["code"]
        with database.transaction() as unit:
            session = get_session(unit, code)
            [participant] = session.get_participants()
            study = unit.scalars(sa.select(UrnStudy)).one()
            with database.transaction() as other:  # another worker, meanwhile
                other.execute(sa.update(ExperimentSession).values(label="changed meanwhile"))
                other.execute(sa.update(Participant).values(label="arrived meanwhile"))
                other.execute(sa.update(UrnStudy).values(num_assigned=UrnStudy.num_assigned + 5))
            assert get_session(unit, code, for_update=True).label == "changed meanwhile"
            locked = get_participant(unit, participant.code, for_update=True)
            assert locked.label == "arrived meanwhile"
            assert get_study(unit, study.name, for_update=True).num_assigned == 5
    finally:
        database.dispose()
