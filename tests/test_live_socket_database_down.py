"""A live page's socket whose database reads fail (busy, or a lost connection that a read does
not survive: server/db.py, LOST CONNECTIONS) closes with 1013, "try again later", and the page's
script connects again and says hello anew; it is never left open but deaf, nor ended with an
error page.

Found as a flaky PostgreSQL test: a hello's replay read raced a lost connection and the socket
ended with an HTML error answer."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server import live_pages
from server.errors import DatabaseUnavailable
from server.push_hub import PushHub
from tests.test_live_pages import (  # noqa: F401
    _hello,
    _next,
    _send,
    _socket_url,
    _start,
    client,
    live_app,
)

CLOSE_TRY_AGAIN_LATER = 1013


class _FailingReads:
    """Stands for a read method: fails the next ``failures`` calls, then reads as before."""

    def __init__(self, read: Any, failures: int) -> None:
        self.read = read
        self.failures = failures

    def __call__(self, *args: Any) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise DatabaseUnavailable("The database cannot store this (lost). Nothing was saved.")
        return self.read(*args)


def _closed_code(ws: Any) -> int:
    """The code the server closed ``ws`` with, after any messages it sent first."""
    try:
        while True:
            ws.receive_json()
    except WebSocketDisconnect as closed:
        return closed.code


def test_a_hello_whose_replay_cannot_read_closes_the_socket_to_be_tried_again(
    client: TestClient,  # noqa: F811
    live_app: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages = _start(client)
    hub = live_app.state.grove.push_hub
    monkeypatch.setattr(hub, "recent", _FailingReads(hub.recent, failures=1))
    with client.websocket_connect(_socket_url(pages[0])) as ws:
        _hello(ws, 0.0)
        assert _closed_code(ws) == CLOSE_TRY_AGAIN_LATER
    with client.websocket_connect(_socket_url(pages[0])) as ws:  # the page's script again
        _hello(ws, 0.0)
        assert _send(ws, "k1", {"kind": "none"})["ok"] is True


def test_a_socket_whose_participant_cannot_be_read_closes_to_be_tried_again(
    client: TestClient,  # noqa: F811
    live_app: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages = _start(client)
    failing = _FailingReads(live_pages.participant_exists, failures=1)
    monkeypatch.setattr(live_pages, "participant_exists", failing)
    code = pages[0].split("/")[2]
    for path in (_socket_url(pages[0]), f"/page/{code}"):
        failing.failures = 1
        with client.websocket_connect(path) as ws:
            assert _closed_code(ws) == CLOSE_TRY_AGAIN_LATER


def test_a_replay_after_the_listener_reconnected_that_cannot_read_closes_the_socket(
    client: TestClient,  # noqa: F811
    live_app: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, the socket's forwarder died and the page stayed open without its messages."""
    pages = _start(client)
    hub: PushHub = live_app.state.grove.push_hub
    with (
        client.websocket_connect(_socket_url(pages[0])) as one,
        client.websocket_connect(_socket_url(pages[1])) as two,
    ):
        for ws in (one, two):
            _hello(ws, 0.0)
            assert _send(ws, f"ready-{id(ws)}", {"kind": "none"})["ok"] is True
        monkeypatch.setattr(hub, "recent", _FailingReads(hub.recent, failures=2))
        assert client.portal is not None
        client.portal.call(hub._resync_everyone)  # as after the listener reconnected
        assert _closed_code(one) == CLOSE_TRY_AGAIN_LATER
        assert _closed_code(two) == CLOSE_TRY_AGAIN_LATER
    with (
        client.websocket_connect(_socket_url(pages[0])) as one,
        client.websocket_connect(_socket_url(pages[1])) as two,
    ):
        for ws in (one, two):
            _hello(ws, 0.0)
        assert _send(one, "k1", {"kind": "add", "amount": 3})["ok"] is True
        assert _next(two, "message")["data"] == {"counter": 3, "from": 1}
