"""Multiplayer: public goods in every arrival order, timeouts of absent players, and the
last two arrivals of a group racing on two worker processes."""

from __future__ import annotations

import itertools
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.db import Database
from tests import databases
from tests.conftest import create_demo_session
from tests.databases import BOTH
from tests.live_server import live_server

RACE_PROJECT = Path(__file__).resolve().parent / "projects" / "race"


def _start(client, link):
    return client.get(link, follow_redirects=False).headers["location"]


@pytest.mark.parametrize("order", list(itertools.permutations([0, 1, 2])))
def test_public_goods_in_every_arrival_order(client, order):
    _code, links = create_demo_session(client, "public_goods")
    urls = [_start(client, link) for link in links]
    contributions = ["10", "50", "90"]
    for index in order:
        response = client.post(
            urls[index], data={"contribution": contributions[index]}, follow_redirects=False
        )
        urls[index] = response.headers["location"]
        if index != order[-1]:
            assert "/ResultsWaitPage/" in urls[index]
            assert client.get(urls[index] + "/status").json() == {"ready": False}
    pages = [client.get(url, follow_redirects=True) for url in urls]
    # 150 in the pot x 1.8 / 3 = 90 each.
    expected = {"10": "180 points", "50": "140 points", "90": "100 points"}
    for page, contribution in zip(pages, contributions, strict=True):
        assert "/public_goods/Results/" in str(page.url)
        assert f'class="grove-payoff">{expected[contribution]}' in page.text


@pytest.mark.slow  # waits out a real page deadline
def test_timeout_auto_advances_an_absent_player(settings):
    app = create_app(settings.with_changes(timeout_poll_seconds=0.2))
    with TestClient(app) as client:
        code = client.post(
            "/api/sessions/",
            json={
                "session_config_name": "public_goods",
                "num_participants": 3,
                "modified_session_config_fields": {"contribution_timeout_seconds": 1},
            },
        ).json()["code"]
        links = [
            f"/InitializeParticipant/{p['code']}"
            for p in client.get(f"/api/sessions/{code}").json()["participants"]
        ]
        urls = [_start(client, link) for link in links]
        assert 'id="grove-timer"' in client.get(urls[0]).text
        waits = []
        for url in urls[:2]:
            waits.append(
                client.post(url, data={"contribution": "20"}, follow_redirects=False).headers[
                    "location"
                ]
            )
        # Participant 3 never comes back. The server submits their page when time is up.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if client.get(waits[0] + "/status").json()["ready"]:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the absent player's page was never auto-submitted")
        results = client.get(waits[0], follow_redirects=True)
        assert "/public_goods/Results/" in str(results.url)
        detail = client.get(f"/api/sessions/{code}").json()
        absent = detail["participants"][2]
        # Its auto-submission made it the last arrival, so it is past the wait page too.
        assert absent["current_page_name"] == "Results"
        with app.state.grove.db.read() as db:
            row = db.execute(
                sa.text(
                    "SELECT contribution, timed_out FROM public_goods_player p "
                    "JOIN grove_participant gp ON gp.id = p.participant_id "
                    "WHERE gp.code = :c"
                ),
                {"c": absent["code"]},
            ).one()
        assert row == (0.0, True)
    app.state.grove.db.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_last_two_arrivals_race_on_two_workers(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "race", backend)
    groups = 10
    env = {"GROVE_PROJECT_ROOT": str(RACE_PROJECT)}
    with live_server(database_url, workers=2, extra_env=env) as base:
        for _ in range(groups):
            created = httpx.post(f"{base}/demo/race", follow_redirects=True)
            pair = re.findall(r'href="(http://[^"]+/InitializeParticipant/\w+)"', created.text)
            assert len(pair) == 2
            urls = [str(httpx.get(link, follow_redirects=True).url) for link in pair]
            barrier = threading.Barrier(2)
            results: list[str] = [""] * 2

            def submit(index: int, urls=urls, barrier=barrier, results=results) -> None:
                with httpx.Client(timeout=60) as browser:
                    barrier.wait()
                    response = browser.post(
                        urls[index], data={"answer": "5"}, follow_redirects=True
                    )
                    results[index] = str(response.url)

            threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            # Whoever was first waits; both must be able to move on to After.
            for index in range(2):
                page = httpx.get(results[index], follow_redirects=True)
                assert "/race/After/" in str(page.url)
                assert '<p class="runs">1</p>' in page.text
    database = Database(database_url)
    with database.engine.connect() as connection:
        runs = connection.execute(sa.text("SELECT hook_runs FROM race_group")).scalars().all()
    database.dispose()
    assert runs == [1] * groups
