"""A live page's hello with a malformed ``seen`` (not a list of ids) closes the socket as any
bad message does (4400), instead of a TypeError in the server (an error logged, the socket
closed with 1011, which the page's script takes as a network failure and retries forever)."""

from __future__ import annotations

import json

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.test_live_pages import _socket_url, _start, client, live_app  # noqa: F401


@pytest.mark.parametrize("seen", [5, 1.5, True, {"a": 1}, "12"])
def test_a_hello_whose_seen_is_not_a_list_is_a_bad_message(client, seen):  # noqa: F811
    pages = _start(client)
    with client.websocket_connect(_socket_url(pages[0])) as ws:
        ws.send_text(json.dumps({"type": "hello", "since": 0, "seen": seen}))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4400
