"""A room's waiting page holds its status request on the room's push channel: it answers as
soon as a session is created in the room or the room is closed (whichever worker did it), at
the latest after the heartbeat, and the presence accounting stays right."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from server.rooms import ROOM_HOLD_SECONDS, close_room
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server


def _arrive(client, label: str):
    response = client.post(
        "/room/econ101/", data={"participant_label": label}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Please wait" in response.text
    return response


def _hold(client, label: str, answers: dict) -> threading.Thread:
    def ask() -> None:
        started = time.monotonic()
        response = client.get(
            "/room/econ101/status", params={"participant_label": label, "wait": "1"}
        )
        answers["json"] = response.json()
        answers["held"] = time.monotonic() - started
        answers["at"] = time.monotonic()

    thread = threading.Thread(target=ask)
    thread.start()
    return thread


def test_a_held_status_answers_when_a_session_is_created_in_the_room(client):
    _arrive(client, "alice")
    answers: dict = {}
    holder = _hold(client, "alice", answers)
    time.sleep(0.5)
    assert "json" not in answers, "the status answered before anything changed"
    created = time.monotonic()
    client.post(
        "/api/sessions",
        json={"session_config_name": "survey", "num_participants": 2, "room_name": "econ101"},
    ).raise_for_status()
    holder.join(timeout=10)
    assert answers["json"] == {"ready": True, "waiting": 1, "listed": True}
    # Answered by the creation, not by the heartbeat (ROOM_HOLD_SECONDS after the hold began;
    # the bound leaves a busy machine seconds for the session's creation itself).
    assert answers["at"] - created < ROOM_HOLD_SECONDS / 2


def test_closing_the_room_answers_and_takes_the_visitor_off_the_list(app, client):
    _arrive(client, "alice")
    answers: dict = {}
    holder = _hold(client, "alice", answers)
    time.sleep(0.5)
    close_room(app.state.grove.db, app.state.grove.rooms["econ101"], who="test")
    holder.join(timeout=10)
    # The page arrives again (grove-room.js submits its form), which lists it again.
    assert answers["json"] == {"ready": False, "waiting": 0, "listed": False}
    _arrive(client, "alice")
    assert client.get("/room/econ101/status", params={"participant_label": "alice"}).json() == {
        "ready": False,
        "waiting": 1,
    }


@pytest.mark.slow
def test_without_news_the_hold_ends_after_the_heartbeat_and_keeps_the_visitor_counted(client):
    _arrive(client, "bob")
    started = time.monotonic()
    answer = client.get("/room/econ101/status", params={"participant_label": "bob", "wait": "1"})
    held = time.monotonic() - started
    assert answer.json() == {"ready": False, "waiting": 1, "listed": True}
    assert ROOM_HOLD_SECONDS - 0.5 <= held < ROOM_HOLD_SECONDS + 5
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_a_session_created_on_another_worker_wakes_the_waiting_page(tmp_path, backend):
    with live_server(databases.database_url(tmp_path, "db", backend), workers=2) as base:
        visitors = [httpx.Client(base_url=base, timeout=30) for _ in range(4)]
        admin = httpx.Client(base_url=base, timeout=30)
        answers: list[dict] = [{} for _ in visitors]
        holders = []
        for number, (visitor, answer) in enumerate(zip(visitors, answers, strict=True)):
            label = f"visitor{number}"
            arrived = visitor.post(
                "/room/live_demo/", data={"participant_label": label}, follow_redirects=True
            )
            assert "Please wait" in arrived.text

            def ask(visitor=visitor, answer=answer) -> None:
                response = visitor.get("/room/live_demo/status", params={"wait": "1"})
                answer["json"] = response.json()
                answer["at"] = time.monotonic()

            holders.append(threading.Thread(target=ask))
            holders[-1].start()
        time.sleep(1.0)
        assert all("json" not in answer for answer in answers)
        created = time.monotonic()
        admin.post(
            "/api/sessions",
            json={"session_config_name": "survey", "num_participants": 4, "room_name": "live_demo"},
        ).raise_for_status()
        for holder in holders:
            holder.join(timeout=10)
        assert [answer["json"]["ready"] for answer in answers] == [True] * 4
        assert max(answer["at"] for answer in answers) - created < 2
        for client in (*visitors, admin):
            client.close()
