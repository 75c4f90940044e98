"""The page socket takes a command again when taking it failed because the database was busy:
before, the command stayed stored until the page reconnected, so an open page (which does
not reconnect by itself) never showed it and it expired after the retention window."""

from __future__ import annotations

import threading

from server.errors import DatabaseBusy
from server.page_commands import MessageCommand, send_page_command
from server.web import page_routes


def test_a_command_not_taken_while_the_database_was_busy_is_taken_again(app, client, monkeypatch):
    created = client.post(
        "/api/sessions", json={"session_config_name": "public_goods", "num_participants": 3}
    ).json()
    code = client.get(f"/api/sessions/{created['code']}").json()["participants"][0]["code"]
    monkeypatch.setattr(page_routes, "BUSY_RETRY_SECONDS", 0.05)
    calls = []
    claim = page_routes.claim_page_commands

    def busy_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise DatabaseBusy("the database is busy")
        return claim(*args)

    monkeypatch.setattr(page_routes, "claim_page_commands", busy_once)
    # Stored while no page is open: the socket's first take (refused as busy) is the only
    # one due, so only the retry can deliver it; no push wakes the socket later.
    app.state.grove.db.run(lambda db: send_page_command(db, [code], MessageCommand("Hello")))
    received: list = []
    with client.websocket_connect(f"/page/{code}") as ws:
        reader = threading.Thread(target=lambda: received.append(ws.receive_json()), daemon=True)
        reader.start()
        reader.join(10)
        assert received == [{"type": "command", "command": "message", "text": "Hello"}]
    assert len(calls) == 2
