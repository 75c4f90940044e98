"""Live messages across server processes: the push channel on SQLite and on PostgreSQL.

Two servers (``prodserver``, one worker each, so each player's connection is certainly on
another process than the other's) share one database, as two workers of one host or two
hosts would. The two players of a group hammer one group counter from their own server at
once: the counter ends exact (every live message one unit of work, the group locked first),
and each player's page receives every broadcast exactly once, sent by either server.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.sync.client import connect

from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

LIVE_PROJECT = Path(__file__).resolve().parent / "projects" / "live"
MESSAGES_EACH = 40
# Generous: two servers and a test on two shared cores.
DELIVERY_SECONDS = 30.0


def _ws_url(base: str, page_url: str) -> str:
    _, _p, code, _app, _page, index = page_url.split("/")
    return base.replace("http://", "ws://") + f"/live/{code}/{index}"


def _start_players(base: str, count: int) -> list[str]:
    created = httpx.post(
        f"{base}/api/sessions/",
        json={"session_config_name": "live", "num_participants": count},
        timeout=60,
    )
    assert created.status_code == 200, created.text
    people = httpx.get(f"{base}/api/sessions/{created.json()['code']}", timeout=60).json()
    pages = []
    for person in people["participants"]:
        start = httpx.get(
            f"{base}/InitializeParticipant/{person['code']}", follow_redirects=True, timeout=60
        )
        assert start.status_code == 200
        pages.append(start.url.path)
    return pages


class _Page:
    """One player's open live page: sends its messages, collects every answer."""

    def __init__(self, stack: ExitStack, url: str, name: str) -> None:
        self.socket = stack.enter_context(connect(url, open_timeout=30))
        self.socket.send(json.dumps({"type": "hello", "since": time.time(), "seen": []}))
        self.name = name
        self.acks: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            for text in self.socket:
                message = json.loads(text)
                with self.lock:
                    (self.acks if message["type"] == "ack" else self.messages).append(message)
        except Exception:
            return

    def send(self, key: str, data: Any) -> None:
        self.socket.send(json.dumps({"type": "send", "id": f"{self.name}-{key}", "data": data}))

    def wait_for(self, acks: int, messages: int) -> None:
        deadline = time.monotonic() + DELIVERY_SECONDS
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.acks) >= acks and len(self.messages) >= messages:
                    return
            time.sleep(0.02)
        raise AssertionError(
            f"{self.name}: {len(self.acks)} of {acks} acks, "
            f"{len(self.messages)} of {messages} messages in {DELIVERY_SECONDS} s"
        )


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_two_servers_keep_a_group_counter_exact_and_deliver_each_message_once(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "push", backend)
    env = {"GROVE_PROJECT_ROOT": str(LIVE_PROJECT)}
    with ExitStack() as stack:
        first = stack.enter_context(live_server(database_url, workers=1, extra_env=env))
        second = stack.enter_context(live_server(database_url, workers=1, extra_env=env))
        pages = _start_players(first, 4)
        one = _Page(stack, _ws_url(first, pages[0]), "one")
        two = _Page(stack, _ws_url(second, pages[1]), "two")
        other_group = _Page(stack, _ws_url(second, pages[2]), "three")
        time.sleep(0.5)  # both subscribed

        def hammer(page: _Page) -> None:
            for number in range(MESSAGES_EACH):
                page.send(str(number), {"kind": "add"})

        threads = [threading.Thread(target=hammer, args=(page,)) for page in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = 2 * MESSAGES_EACH
        one.wait_for(MESSAGES_EACH, total)
        two.wait_for(MESSAGES_EACH, total)
        for page in (one, two):
            assert all(ack["ok"] for ack in page.acks), page.acks
            counters = sorted(message["data"]["counter"] for message in page.messages)
            assert counters == list(range(1, total + 1)), f"{page.name}: {counters}"
            ids = [message["id"] for message in page.messages]
            assert len(set(ids)) == len(ids)
        senders = [message["data"]["from"] for message in one.messages]
        assert senders.count(1) == senders.count(2) == MESSAGES_EACH
        # The other group heard nothing: its first message is its own echo.
        other_group.send("echo", {"kind": "echo"})
        other_group.wait_for(1, 1)
        assert [m["data"] for m in other_group.messages] == [{"echo": {"kind": "echo"}}]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_message_sent_while_the_listener_reconnects_is_not_lost(tmp_path):
    """PostgreSQL's notifications sent while a worker's listening connection is down are
    gone; once it is back, its pages read what they missed from the message table."""
    from starlette.testclient import TestClient

    from server.app import create_app
    from server.config import load_settings
    from tests.test_live_pages import _hello, _next, _send, _socket_url, _start

    url = databases.database_url(tmp_path, "listener", databases.POSTGRESQL)
    application = create_app(load_settings(LIVE_PROJECT, {"DATABASE_URL": url}))
    engine = databases.engine(url)
    try:
        with TestClient(application) as client:
            pages = _start(client)
            with (
                client.websocket_connect(_socket_url(pages[0])) as one,
                client.websocket_connect(_socket_url(pages[1])) as two,
            ):
                _hello(one, time.time())
                _hello(two, time.time())
                _send(one, "before", {"kind": "to", "to": 2, "note": "before"})
                assert _next(two, "message")["data"]["note"] == "before"
                with engine.begin() as connection:
                    ended = connection.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
                        )
                    ).all()
                assert ended == [(True,)]
                _send(one, "during", {"kind": "to", "to": 2, "note": "during"})
                assert _next(two, "message")["data"]["note"] == "during"
                _send(one, "after", {"kind": "to", "to": 2, "note": "after"})
                assert _next(two, "message")["data"]["note"] == "after"
    finally:
        engine.dispose()
        application.state.grove.db.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_one_message_arriving_at_two_servers_at_once_runs_once(tmp_path, backend):
    """A page that reconnected to the other server resends what was not acknowledged, perhaps
    while the first copy still runs: each message id runs once, whichever server has it."""
    database_url = databases.database_url(tmp_path, "resend", backend)
    env = {"GROVE_PROJECT_ROOT": str(LIVE_PROJECT)}
    with ExitStack() as stack:
        first = stack.enter_context(live_server(database_url, workers=1, extra_env=env))
        second = stack.enter_context(live_server(database_url, workers=1, extra_env=env))
        pages = _start_players(first, 2)
        here = _Page(stack, _ws_url(first, pages[0]), "page")
        there = _Page(stack, _ws_url(second, pages[0]), "page")
        time.sleep(0.5)

        def send_all(page: _Page) -> None:
            for number in range(MESSAGES_EACH):
                page.send(str(number), {"kind": "add"})

        threads = [threading.Thread(target=send_all, args=(page,)) for page in (here, there)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        here.wait_for(MESSAGES_EACH, MESSAGES_EACH)
        there.wait_for(MESSAGES_EACH, MESSAGES_EACH)
        time.sleep(0.5)  # no more than one answer per message comes later either
        for page in (here, there):
            assert all(ack["ok"] for ack in page.acks), page.acks
            counters = sorted(message["data"]["counter"] for message in page.messages)
            assert counters == list(range(1, MESSAGES_EACH + 1))
