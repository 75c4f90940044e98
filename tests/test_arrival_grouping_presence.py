"""``group_by_arrival_time`` groups only players whose browser is still on the wait page.

oTree's documentation (multiplayer_waitpages.rst, "Presence detection"): "In order to be
grouped, a user must be active on the wait page"; oTree 6.0.15 passes its
``group_by_arrival_time_method`` only the players whose wait page is connected and whose last
request is at most 70 s old (otree/models/subsession.py, ``_gbat_try_to_make_new_group``). A
waiting browser asks Grove for the page's status at least every 20 s or so; one not seen for a
minute has left, and a partner grouped with them would wait for nobody.

The race project's lobby: pairs formed by arrival at its first page, a wait page.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import sqlalchemy as sa
from starlette.testclient import TestClient

from server import timeouts
from server.app import create_app
from server.config import load_settings
from server.models.core import Participant
from tests import databases
from tests.conftest import create_demo_session
from tests.test_multiplayer import RACE_PROJECT


def _arrive(client: TestClient, link: str) -> str:
    """The participant opens their link and arrives at the lobby; returns where they are (the
    lobby, or the next page when their arrival formed a group)."""
    return client.get(link, follow_redirects=True).url.path


def _mates(client: TestClient, url: str) -> list[int]:
    page = client.get(url, follow_redirects=True)
    assert "/lobby/Play/" in str(page.url), page.text
    return sorted(int(m) for m in re.search(r'class="mates">([^<]*)<', page.text).group(1).split())


def test_a_player_who_left_the_wait_page_is_not_grouped(tmp_path) -> None:
    settings = load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    try:
        with TestClient(app) as client:
            _code, links = create_demo_session(client, "lobby")
            first = _arrive(client, links[0])
            assert "/lobby/Lobby/" in first
            # Participant 1 closed the tab on the lobby two minutes ago: not seen since.
            with app.state.grove.db.transaction() as db:
                db.execute(
                    sa.update(Participant)
                    .where(Participant.code == first.split("/")[2])
                    .values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
                )
            second = _arrive(client, links[1])
            assert "/lobby/Lobby/" in second
            assert client.get(second + "/status").json() == {"ready": False}
            third = _arrive(client, links[2])
            assert _mates(client, second) == _mates(client, third) == [2, 3]
            # Nor is the next arrival grouped with them while they are away.
            fourth = _arrive(client, links[3])
            assert "/lobby/Lobby/" in fourth
            assert client.get(fourth + "/status").json() == {"ready": False}
    finally:
        app.state.grove.db.dispose()


RELAY_PROJECT = RACE_PROJECT.parent / "relay"


def test_a_player_arriving_after_a_long_page_is_grouped_at_once(tmp_path) -> None:
    """The arriving player is on the wait page, whenever their browser last asked for
    something: one who read the page before it for two minutes (no request meanwhile) and
    completes a pair is grouped by their own submission, not a poll later."""
    settings = load_settings(RELAY_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    try:
        with TestClient(app) as client:
            _code, links = create_demo_session(client, "arrivals")
            first = client.get(links[0]).url.path
            assert "/arrivals/Lobby/" in client.post(first, data={}).url.path
            second = client.get(links[1]).url.path
            with app.state.grove.db.transaction() as db:
                db.execute(
                    sa.update(Participant)
                    .where(Participant.code == second.split("/")[2])
                    .values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
                )
            answer = client.post(second, data={}, follow_redirects=False)
            assert "/arrivals/Results/" in answer.headers["location"]
    finally:
        app.state.grove.db.dispose()


def test_the_regrouping_sweep_does_not_group_a_player_who_left(tmp_path) -> None:
    """The background sweep that re-runs the grouping while players wait (as oTree's wait
    page reloads do, from the browsers of players still there) picks the first arrival not
    grouped yet; one who left the page is no more grouped by it than by a partner's arrival
    (oTree 6.0.15 leaves them out of every grouping once their last request is 70 s old)."""
    settings = load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    grove = app.state.grove
    try:
        with TestClient(app) as client:
            _code, links = create_demo_session(client, "lobby")
            first = _arrive(client, links[0])
            with grove.db.transaction() as db:
                db.execute(
                    sa.update(Participant)
                    .where(Participant.code == first.split("/")[2])
                    .values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
                )
            second = _arrive(client, links[1])
            assert "/lobby/Lobby/" in second
            timeouts.submit_due_pages(grove.db, grove.project)  # the server's sweep, once
            assert client.get(second + "/status").json() == {"ready": False}
            assert client.get(first + "/status").json() == {"ready": False}
            # Back on the page, the first is grouped by their own request.
            assert _mates(client, first) == _mates(client, second) == [1, 2]
    finally:
        grove.db.dispose()


FLOW_PROJECT = RACE_PROJECT.parent / "flow"


def test_the_sweep_lets_a_waiting_player_go_alone_past_one_who_left(tmp_path) -> None:
    """oTree's recipe (flow's lobby): groups of 3, or alone after waiting a second. The sweep
    re-runs the method for the first arrival not grouped yet, who left: the method sees only
    the player still there, and lets them go alone; the one who left stays."""
    settings = load_settings(FLOW_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    grove = app.state.grove
    try:
        with TestClient(app) as client:
            created = client.post(
                "/api/sessions/",
                json={
                    "session_config_name": "lobby",
                    "num_participants": 3,
                    "modified_session_config_fields": {"lone_after_seconds": 1},
                },
            ).json()
            links = [
                f"/InitializeParticipant/{p['code']}"
                for p in client.get(f"/api/sessions/{created['code']}").json()["participants"]
            ]
            lobbies = []
            for link in links[:2]:
                intro = client.get(link).url.path
                lobbies.append(client.post(intro, data={}, follow_redirects=False))
            first, second = (answer.headers["location"] for answer in lobbies)
            assert "/lobby/Lobby/" in first
            with grove.db.transaction() as db:
                db.execute(
                    sa.update(Participant)
                    .where(Participant.code == first.split("/")[2])
                    .values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
                )
            time.sleep(1.2)  # both have waited too long now
            timeouts.submit_due_pages(grove.db, grove.project)
            assert client.get(first + "/status").json() == {"ready": False}
            assert client.get(second + "/status").json() == {"ready": True}
    finally:
        grove.db.dispose()


def test_a_player_moved_onto_the_wait_page_by_a_timeout_is_not_grouped(tmp_path) -> None:
    """A participant who closed the browser on a timed page is moved onto the grouping wait
    page by the timeout; their browser never showed it, so nobody is grouped with them until
    they are back (oTree 6.0.15 groups only players whose wait page is connected). Seen on a
    lab day: PC12 closed the browser 30 s before the timeout, and PC11, waiting, was paired
    with nobody. Their last request (30 s ago) is within oTree's 70 s, so only the page they
    were seen on tells them apart."""
    settings = load_settings(RELAY_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    grove = app.state.grove
    try:
        with TestClient(app) as client:
            _code, links = create_demo_session(client, "timed_arrivals")
            gone = client.get(links[0]).url.path
            assert "/timed_arrivals/Intro/" in gone
            # They closed the browser 30 s ago; the page's time is up now.
            with grove.db.transaction() as db:
                db.execute(
                    sa.update(Participant)
                    .where(Participant.code == gone.split("/")[2])
                    .values(
                        last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30),
                        page_deadline=time.time() - 5,
                    )
                )
            assert timeouts.submit_due_pages(grove.db, grove.project) == 1
            there = client.get(links[1]).url.path
            answer = client.post(there, data={}, follow_redirects=False)
            waiting = answer.headers["location"]
            assert "/timed_arrivals/Lobby/" in waiting
            assert client.get(waiting + "/status").json() == {"ready": False}
            # Back on the wait page, the first is grouped by their own request.
            back = client.get(links[0]).url.path
            assert "/timed_arrivals/Results/" in back
            assert client.get(waiting + "/status").json()["ready"] is True
    finally:
        grove.db.dispose()


def test_a_player_the_admin_advances_onto_the_wait_page_is_not_grouped(tmp_path) -> None:
    """The Monitor's advance (oTree's "Advance slowest participants") moves a participant
    whose browser closed 30 s ago onto the grouping wait page: the one waiting there is not
    paired with them, as on oTree, where their wait page was never connected."""
    from tests.admin_pages import log_in, submit_form

    settings = load_settings(RELAY_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(
        settings.with_changes(timeout_poll_seconds=3600.0, admin_password="lab-password")
    )
    grove = app.state.grove
    try:
        with TestClient(app) as admin, TestClient(app) as client:
            log_in(admin, "lab-password")
            code, links = create_demo_session(admin, "timed_arrivals")
            gone = client.get(links[0]).url.path
            there = client.get(links[1]).url.path
            assert "/timed_arrivals/Intro/" in gone
            assert "/timed_arrivals/Intro/" in there
            waiting = client.post(there, data={}).url.path
            assert "/timed_arrivals/Lobby/" in waiting
            with grove.db.transaction() as db:
                db.execute(
                    sa.update(Participant)
                    .where(Participant.code == gone.split("/")[2])
                    .values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30))
                )
            answer = submit_form(
                admin,
                f"/SessionMonitor/{code}",
                f"/SessionMonitor/{code}/advance",
                {f"advance:{gone.split('/')[2]}": True},
            )
            assert answer.status_code in (200, 303), answer.text
            assert client.get(waiting + "/status").json() == {"ready": False}
            # Back on the wait page, the first is grouped by their own request.
            assert "/timed_arrivals/Results/" in client.get(links[0]).url.path
            assert client.get(waiting + "/status").json()["ready"] is True
    finally:
        grove.db.dispose()
