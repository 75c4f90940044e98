"""ExtraModel rows in incremental pulls (``?since=``): a live method that writes an
ExtraModel row and no player, group or subsession field changes what the app's custom export
and the ExtraModel's own export show, so the next pull must bring the row (README,
"Incremental pulls"). Project: tests/projects/extra_since (groups of 2, a live method that
writes one row of the kind the message names)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session

_KEYS = itertools.count(1)  # a message's key: one key, one message (a resent one is dropped)
PROJECT = Path(__file__).resolve().parent / "projects" / "extra_since"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = databases.database_url(tmp_path, "extra_since")
    application = create_app(load_settings(PROJECT, {"DATABASE_URL": url}))
    with TestClient(application) as test_client:
        yield test_client
    application.state.grove.db.dispose()


def _start(client: TestClient) -> tuple[list[str], list[str]]:
    """The participants' live socket URLs and codes, in id_in_session order."""
    _code, links = create_demo_session(client, "offers")
    sockets, codes = [], []
    for link in links:
        response = client.get(link)
        assert response.status_code == 200
        _, _p, code, _app, _page, index = response.url.path.split("/")
        sockets.append(f"/live/{code}/{index}")
        codes.append(code)
    return sockets, codes


def _say(client: TestClient, socket: str, data: dict[str, Any]) -> None:
    """One live message, answered (its unit of work committed) before this returns."""
    with client.websocket_connect(socket) as ws:
        ws.send_json({"type": "hello", "since": time.time(), "seen": []})
        ws.send_json({"type": "send", "id": f"k{next(_KEYS)}", "data": data})
        while (message := ws.receive_json())["type"] != "ack":
            pass
        assert "error" not in message, message


def _pull(client: TestClient, path: str, since: str | None = None) -> tuple[list[dict], str]:
    params = {"format": "json", **({"since": since} if since is not None else {})}
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["rows"], body["next_since"]


def test_a_live_method_writing_only_an_extra_model_row_is_in_the_next_pull(
    client: TestClient,
) -> None:
    sockets, codes = _start(client)
    custom, offers = "/api/export/offers/custom_export", "/api/export/offers/Offer"
    rows, since = _pull(client, custom)
    assert rows == []
    _rows, offers_since = _pull(client, offers)

    _say(client, sockets[0], {"kind": "offer", "amount": 5})

    rows, since = _pull(client, custom, since)
    assert [(r["participant_code"], r["amount"]) for r in rows] == [(codes[0], 5)]
    rows, offers_since = _pull(client, offers, offers_since)
    assert [r["amount"] for r in rows] == [5]
    # Nothing new: nothing comes back.
    assert _pull(client, custom, since)[0] == []
    assert _pull(client, offers, offers_since)[0] == []

    _say(client, sockets[0], {"kind": "change", "amount": 7})
    rows, since = _pull(client, custom, since)
    assert [(r["participant_code"], r["amount"]) for r in rows] == [(codes[0], 7)]
    rows, offers_since = _pull(client, offers, offers_since)
    assert [r["amount"] for r in rows] == [7]

    # A row linked to the offer (of the first player) stamps the first player.
    _say(client, sockets[1], {"kind": "reply", "text": "no"})
    rows, since = _pull(client, custom, since)
    assert [r["participant_code"] for r in rows] == [codes[0]]
    replies, _ = _pull(client, "/api/export/offers/Reply", offers_since)
    assert [r["text"] for r in replies] == ["no"]

    # A deleted row changes what the custom export shows for its player.
    app_rows, app_since = _pull(client, "/api/export/offers")
    _say(client, sockets[0], {"kind": "withdraw"})
    app_rows, _ = _pull(client, "/api/export/offers", app_since)
    assert [r["participant.code"] for r in app_rows] == [codes[0]]
    assert _pull(client, custom, since)[0] == []


def test_a_group_linked_row_stamps_the_group_and_an_unlinked_row_is_in_every_pull(
    client: TestClient,
) -> None:
    sockets, codes = _start(client)
    notes = "/api/export/offers/GroupNote"
    _rows, app_since = _pull(client, "/api/export/offers")
    _rows, notes_since = _pull(client, notes)

    _say(client, sockets[2], {"kind": "note", "text": "hello"})

    app_rows, _ = _pull(client, "/api/export/offers", app_since)
    assert sorted(r["participant.code"] for r in app_rows) == sorted(codes[2:])
    rows, notes_since = _pull(client, notes, notes_since)
    assert [r["text"] for r in rows] == ["hello"]
    assert _pull(client, notes, notes_since)[0] == []

    # Linked to no row: nobody to stamp, so it comes in every pull (never missed).
    _rows, loose_since = _pull(client, "/api/export/offers/Loose")
    _say(client, sockets[3], {"kind": "loose", "text": "x"})
    rows, loose_since = _pull(client, "/api/export/offers/Loose", loose_since)
    assert [r["text"] for r in rows] == ["x"]
    assert [r["text"] for r in _pull(client, "/api/export/offers/Loose", loose_since)[0]] == ["x"]
