"""Live pages (oTree's live_method, liveSend/liveRecv) through the real WebSocket.

The project tests/projects/live has groups of 2 on a page whose live method counts in a group
field, addresses players by id_in_group, and fails on request. Expected behaviour is oTree's
documented one (live.rst, misc_bots_advanced.rst); where Grove is stricter (a live method
that raises writes nothing), the test says so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import run_bots
from server.config import load_settings
from server.models.push import PushMessage
from tests import databases
from tests.conftest import create_demo_session

LIVE_PROJECT = Path(__file__).resolve().parent / "projects" / "live"


def _settings(tmp_path: Path, **environ: str) -> Any:
    url = databases.database_url(tmp_path, "live")
    return load_settings(LIVE_PROJECT, {"DATABASE_URL": url, **environ})


@pytest.fixture
def live_app(tmp_path):
    application = create_app(_settings(tmp_path))
    yield application
    application.state.grove.db.dispose()


@pytest.fixture
def client(live_app):
    with TestClient(live_app) as test_client:
        yield test_client


def _start(client: TestClient, config: str = "live") -> list[str]:
    """Start every participant; their page URLs, in id_in_session order (groups 1-2, 3-4)."""
    _code, links = create_demo_session(client, config)
    pages = []
    for link in links:
        response = client.get(link)
        assert response.status_code == 200
        pages.append(str(response.url).replace("http://testserver", ""))
    return pages


def _socket_url(page_url: str) -> str:
    _, _p, code, _app, _page, index = page_url.split("/")
    return f"/live/{code}/{index}"


def _hello(ws: Any, since: float = 0.0, seen: list[int] | None = None) -> None:
    ws.send_json({"type": "hello", "since": since, "seen": seen or []})


def _next(ws: Any, kind: str) -> dict[str, Any]:
    """The next message of this kind (``ack`` or ``message``) on this socket; those of the
    other kind are kept for later (an answer may come before or after its ack)."""
    kept = ws.__dict__.setdefault("grove_kept", [])
    for message in kept:
        if message["type"] == kind:
            kept.remove(message)
            return message
    while True:
        message = ws.receive_json()
        if message["type"] == kind:
            return message
        kept.append(message)


@contextmanager
def _first_pair_connected(client: TestClient, pages: list[str]) -> Iterator[tuple[Any, Any]]:
    """The sockets of the first group's two players (``pages`` from ``_start``), each having
    said hello."""
    with _first_connected(client, pages, 2) as (one, two):
        yield one, two


@contextmanager
def _first_connected(
    client: TestClient, pages: list[str], how_many: int
) -> Iterator[tuple[Any, ...]]:
    """The sockets of the first ``how_many`` (2 or 3) players: the first group's two, then the
    second group's first; each has said hello."""
    with ExitStack() as stack:
        sockets = tuple(
            stack.enter_context(client.websocket_connect(_socket_url(page)))
            for page in pages[:how_many]
        )
        for ws in sockets:
            _hello(ws, time.time())
        yield sockets


def _send(ws: Any, key: str, data: Any) -> dict[str, Any]:
    ws.send_json({"type": "send", "id": key, "data": data})
    return _next(ws, "ack")


def _counter(live_app: Any, group_index: int = 0) -> int:
    project = live_app.state.grove.project
    group_cls = project.apps["live_test"].group_cls
    with live_app.state.grove.db.read() as db:
        groups = db.scalars(sa.select(group_cls).order_by(group_cls.id)).all()
        return groups[group_index].counter


def _channels(live_app: Any) -> list[str]:
    with live_app.state.grove.db.read() as db:
        return list(db.scalars(sa.select(PushMessage.channel).order_by(PushMessage.id)))


def test_only_a_page_with_a_live_method_loads_the_live_script(client):
    pages = _start(client)
    html = client.get(pages[0]).text
    assert 'src="/grove_static/grove-live.js"' in html
    assert f'data-url="{_socket_url(pages[0])}"' in html
    assert client.get("/grove_static/grove-live.js").status_code == 200
    done = client.post(pages[0], data={}, follow_redirects=True)
    # Refused by error_message: still the live page, with its script.
    assert "Finish the task first." in done.text
    assert "grove-live.js" in done.text


def test_zero_reaches_the_whole_group_and_no_one_outside_it(client, live_app):
    pages = _start(client)
    with _first_connected(client, pages, 3) as (one, two, other_group):
        assert _send(one, "a-1", {"kind": "add", "amount": 5}) == {
            "type": "ack",
            "id": "a-1",
            "ok": True,
        }
        expected = {"counter": 5, "from": 1}
        assert _next(one, "message")["data"] == expected
        assert _next(two, "message")["data"] == expected
        # The other group's page gets its own echo next, not the first group's message.
        _send(other_group, "o-1", {"kind": "echo"})
        assert _next(other_group, "message")["data"] == {"echo": {"kind": "echo"}}
    codes = [page.split("/")[2] for page in pages]
    assert _channels(live_app) == [
        f"live:{codes[0]}:1",
        f"live:{codes[1]}:1",
        f"live:{codes[2]}:1",
    ]
    assert _counter(live_app, 0) == 5
    assert _counter(live_app, 1) == 0


def test_a_message_addressed_by_id_in_group_reaches_that_player_only(client, live_app):
    pages = _start(client)
    with _first_pair_connected(client, pages) as (one, two):
        _send(one, "k1", {"kind": "to", "to": 2, "note": "hi"})
        assert _next(two, "message")["data"] == {"note": "hi", "from": 1}
        _send(two, "k2", {"kind": "to", "to": 1, "note": "back"})
        # Player 1 got nothing before this answer: its first message is the reply.
        assert _next(one, "message")["data"] == {"note": "back", "from": 2}
    codes = [page.split("/")[2] for page in pages]
    assert _channels(live_app) == [f"live:{codes[1]}:1", f"live:{codes[0]}:1"]


def test_after_a_regrouping_on_the_page_messages_reach_the_new_group(client, live_app):
    # The socket locks the group its last message locked; here that group is no longer the
    # sender's, and the message must count in and reach the group the sender is in now.
    pages = _start(client)
    with _first_connected(client, pages, 3) as (one, two, three):
        _send(one, "a-1", {"kind": "add", "amount": 5})
        assert _next(two, "message")["data"] == {"counter": 5, "from": 1}
        assert _next(one, "message")["data"] == {"counter": 5, "from": 1}
        # Players 3 and 4 take the first group; players 1 and 2 the second.
        assert _send(three, "r-1", {"kind": "regroup", "matrix": [[3, 4], [1, 2]]})["ok"]
        assert _send(one, "a-2", {"kind": "add", "amount": 1})["ok"]
        assert _next(one, "message")["data"] == {"counter": 1, "from": 1}
        assert _next(two, "message")["data"] == {"counter": 1, "from": 1}
        _send(three, "e-1", {"kind": "echo"})
        assert _next(three, "message")["data"] == {"echo": {"kind": "echo"}}
    assert _counter(live_app, 0) == 5
    assert _counter(live_app, 1) == 1


def test_a_pages_later_messages_lock_without_looking_first(client, live_app):
    # Statement budget: on PostgreSQL a page's later messages lock the group their last
    # message locked at once (two statements fewer than the first); SQLite reads once anyway.
    pages = _start(client)
    sent: list[list[tuple[Any, str]]] = []

    def note(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT")):
            sent[-1].append((connection, statement))  # kept: no other gets its id meanwhile

    engine = live_app.state.grove.db.engine
    with client.websocket_connect(_socket_url(pages[0])) as one:
        _hello(one, time.time())
        sa.event.listen(engine, "before_cursor_execute", note)
        try:
            for key in ("e-1", "e-2", "e-3"):
                sent.append([])
                assert _send(one, key, {"kind": "echo"})["ok"]
        finally:
            sa.event.remove(engine, "before_cursor_execute", note)
    # A message's statements are those sent on the connection that took its receipt: not
    # the reads that run meanwhile (the socket's check that its participant exists, the push
    # hub's replay, the timeout and dropout sweeps).
    counts = []
    for statements in sent:
        (unit,) = {c for c, text in statements if text.startswith("INSERT INTO grove_live_r")}
        counts.append(sum(1 for c, _text in statements if c is unit))
    fewer = 2 if engine.dialect.name == "postgresql" else 0
    assert counts[1:] == [counts[0] - fewer] * 2, sent


def test_an_answer_too_large_for_one_notification_arrives_whole(client):
    # On PostgreSQL a NOTIFY holds at most 8000 bytes: this answer comes by its row's id.
    with _first_pair_connected(client, _start(client)) as (one, two):
        note = "é" * 5000  # 10,000 bytes in UTF-8
        _send(one, "big", {"kind": "to", "to": 2, "note": note})
        assert _next(two, "message")["data"] == {"note": note, "from": 1}
        _send(two, "small", {"kind": "to", "to": 1, "note": "thanks"})
        assert _next(one, "message")["data"] == {"note": "thanks", "from": 2}


def test_a_key_equal_to_a_members_id_reaches_that_member_as_in_otree(client):
    # oTree looks a key up among the members' ids, so 2.0 (a number from the page's JSON,
    # or numpy's int64) is player 2.
    with _first_pair_connected(client, _start(client)) as (one, two):
        assert _send(one, "k1", {"kind": "to", "to": 2.0, "note": "hi"})["ok"] is True
        assert _next(two, "message")["data"] == {"note": "hi", "from": 1}


@pytest.mark.parametrize("key", [10**30, "2", 2.5, True])
def test_a_key_that_is_no_members_id_is_refused_clearly(client, live_app, key, caplog):
    pages = _start(client)
    with client.websocket_connect(_socket_url(pages[0])) as one:
        _hello(one, time.time())
        ack = _send(one, "bad", {"kind": "to", "to": key})
        assert ack["ok"] is False
        assert "live_method" in ack["error"]
    assert _channels(live_app) == []
    said = f"id_in_group={key!r}, but the group has the players [1, 2]"
    errors = [str(record.exc_info[1]) for record in caplog.records if record.exc_info]
    assert any(said in error for error in errors), errors


@pytest.mark.parametrize("kind", ["raise", "bad_key", "zero_and_more", "not_a_dict"])
def test_a_live_method_that_fails_writes_and_sends_nothing(client, live_app, kind, caplog):
    pages = _start(client)
    with client.websocket_connect(_socket_url(pages[0])) as one:
        _hello(one, time.time())
        ack = _send(one, "bad", {"kind": kind})
        assert ack["ok"] is False
        assert "live_method" in ack["error"]
        # The page goes on working after a failure.
        assert _send(one, "good", {"kind": "add"})["ok"] is True
        assert _next(one, "message")["data"] == {"counter": 1, "from": 1}
    assert _counter(live_app) == 1  # the failed call's += 1000 was rolled back
    project = live_app.state.grove.project
    note_cls = project.apps["live_test"].module.Note
    with live_app.state.grove.db.read() as db:
        assert db.scalars(sa.select(note_cls)).all() == []
    assert any("live_method" in record.getMessage() for record in caplog.records)


def test_a_message_sent_twice_with_one_id_runs_once(client, live_app):
    pages = _start(client)
    with client.websocket_connect(_socket_url(pages[0])) as first:
        _hello(first, time.time())
        assert _send(first, "same", {"kind": "add"})["ok"] is True
    # The page reconnected and sent its unacknowledged message again.
    with client.websocket_connect(_socket_url(pages[0])) as second:
        _hello(second, time.time())
        assert _send(second, "same", {"kind": "add"}) == {"type": "ack", "id": "same", "ok": True}
        assert _send(second, "other", {"kind": "add"})["ok"] is True
    assert _counter(live_app) == 2


def test_messages_for_a_disconnected_page_come_on_reconnect_once(client):
    pages = _start(client)
    rendered_at = time.time()
    with client.websocket_connect(_socket_url(pages[0])) as one:
        _hello(one, rendered_at)
        _send(one, "x1", {"kind": "to", "to": 2, "note": "while away"})
        _send(one, "x2", {"kind": "to", "to": 2, "note": "still away"})
    with client.websocket_connect(_socket_url(pages[1])) as two:
        _hello(two, rendered_at)
        first = _next(two, "message")
        second = _next(two, "message")
        assert [first["data"]["note"], second["data"]["note"]] == ["while away", "still away"]
        seen = [first["id"], second["id"]]
    # Reconnecting again with what it has seen: nothing is sent twice.
    with (
        client.websocket_connect(_socket_url(pages[1])) as two,
        client.websocket_connect(_socket_url(pages[0])) as one,
    ):
        _hello(two, rendered_at, seen)
        _hello(one, rendered_at)
        _send(one, "x3", {"kind": "to", "to": 2, "note": "new"})
        assert _next(two, "message")["data"]["note"] == "new"


def test_messages_older_than_the_retention_are_dropped(tmp_path):
    application = create_app(_settings(tmp_path, GROVE_LIVE_RETENTION_SECONDS="0.3"))
    try:
        with TestClient(application) as client:
            pages = _start(client)
            rendered_at = time.time()
            with client.websocket_connect(_socket_url(pages[0])) as one:
                _hello(one, rendered_at)
                _send(one, "old", {"kind": "to", "to": 2, "note": "old"})
            time.sleep(0.5)
            with client.websocket_connect(_socket_url(pages[0])) as one:
                _hello(one, rendered_at)
                _send(one, "new", {"kind": "to", "to": 2, "note": "new"})
            with client.websocket_connect(_socket_url(pages[1])) as two:
                _hello(two, rendered_at)
                assert _next(two, "message")["data"]["note"] == "new"
    finally:
        application.state.grove.db.dispose()


def test_a_busy_database_asks_the_page_to_send_again(client, live_app, monkeypatch):
    from server import live_pages
    from server.errors import DatabaseBusy

    pages = _start(client)
    real = live_pages.send_live_message

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseBusy("The database is busy. Nothing was saved; try again.")

    with client.websocket_connect(_socket_url(pages[0])) as one:
        _hello(one, time.time())
        monkeypatch.setattr(live_pages, "send_live_message", busy)
        ack = _send(one, "b", {"kind": "add"})
        assert (ack["ok"], ack["retry"]) == (False, True)
        monkeypatch.setattr(live_pages, "send_live_message", real)
        assert _send(one, "b", {"kind": "add"})["ok"] is True
    assert _counter(live_app) == 1


def test_a_message_for_a_page_the_participant_left_is_refused(client, live_app):
    pages = _start(client)
    with client.websocket_connect(_socket_url(pages[0])) as one:
        _hello(one, time.time())
        _send(one, "f", {"kind": "finish"})
    assert client.post(pages[0], data={}, follow_redirects=False).status_code == 303
    with client.websocket_connect(_socket_url(pages[0])) as stale:
        _hello(stale, time.time())
        ack = _send(stale, "late", {"kind": "add"})
        assert ack["ok"] is False
        assert "no longer on this page" in ack["error"]
    assert _counter(live_app) == 0


def test_error_message_and_before_next_page_after_live_traffic(client, live_app):
    pages = _start(client)
    refused = client.post(pages[0], data={}, follow_redirects=False)
    assert refused.status_code == 200
    assert "Finish the task first." in refused.text
    with client.websocket_connect(_socket_url(pages[0])) as one:
        _hello(one, time.time())
        for number in range(3):
            _send(one, f"n{number}", {"kind": "add"})
        _send(one, "fin", {"kind": "finish"})
    moved = client.post(pages[0], data={}, follow_redirects=True)
    assert "<p>Done</p>" in moved.text
    assert "grove-live.js" not in moved.text
    project = live_app.state.grove.project
    player_cls = project.apps["live_test"].player_cls
    with live_app.state.grove.db.read() as db:
        first = db.scalars(sa.select(player_cls).order_by(player_cls.id)).first()
        assert (first.left_with, first.sent, first.timed_out) == (3, 3, False)
        assert first.participant.vars["live_sent"] == 3


def test_a_live_page_times_out_as_any_page(client, live_app):
    pages = _start(client)
    with client.websocket_connect(_socket_url(pages[0])) as one:
        _hello(one, time.time())
        _send(one, "n", {"kind": "add", "amount": 4})
    from server.models.core import Participant

    code = pages[0].split("/")[2]
    with live_app.state.grove.db.transaction() as db:
        db.execute(sa.update(Participant).where(Participant.code == code).values(page_deadline=1.0))
    from server.timeouts import submit_due_pages

    submit_due_pages(live_app.state.grove.db, live_app.state.grove.project)
    assert "Done" in client.get(pages[0], follow_redirects=True).text
    player_cls = live_app.state.grove.project.apps["live_test"].player_cls
    with live_app.state.grove.db.read() as db:
        first = db.scalars(sa.select(player_cls).order_by(player_cls.id)).first()
        assert (first.left_with, first.timed_out) == (4, True)


def test_a_live_method_named_by_a_string_and_a_page_not_displayed(client, live_app):
    pages = _start(client, "live_by_name")
    with (
        client.websocket_connect(_socket_url(pages[0])) as one,
        client.websocket_connect(_socket_url(pages[1])) as two,
    ):
        _hello(one, time.time())
        _hello(two, time.time())
        _send(one, "t", 7)
        assert _next(two, "message")["data"] == 7
    # Skipped (is_displayed False) is never the participant's page: its messages are refused.
    client.post(pages[0], data={}, follow_redirects=False)
    skipped = pages[0].replace("/ByName/1", "/Skipped/2")
    with client.websocket_connect(_socket_url(skipped)) as ws:
        _hello(ws, time.time())
        assert _send(ws, "s", 1)["ok"] is False


def test_a_wait_page_with_a_live_method(client):
    pages = _start(client, "live_by_name")
    waiting = client.post(pages[0], data={}, follow_redirects=True)
    assert 'id="grove-wait"' in waiting.text
    lobby = waiting.url.path
    assert lobby.endswith("/Lobby/3")
    assert f'data-url="{_socket_url(lobby)}"' in waiting.text
    with client.websocket_connect(_socket_url(lobby)) as ws:
        _hello(ws, time.time())
        assert _send(ws, "w", 5)["ok"] is True
        assert _next(ws, "message")["data"] == 5
    # The other player arrives: both move on, and the wait page's messages are refused.
    client.post(pages[1], data={}, follow_redirects=True)
    assert "<p>Last</p>" in client.get(lobby, follow_redirects=True).text
    with client.websocket_connect(_socket_url(lobby)) as ws:
        _hello(ws, time.time())
        assert _send(ws, "late", 1)["ok"] is False


def test_an_unknown_participant_or_a_bad_message_closes_the_socket(client):
    from starlette.websockets import WebSocketDisconnect

    with (
        client.websocket_connect("/live/nosuchcode/1") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 4404
    pages = _start(client)
    for frame in (json.dumps(["not", "an", "object"]), '{"type": "send", "data": NaN}', b"\x00"):
        with client.websocket_connect(_socket_url(pages[0])) as ws:
            if isinstance(frame, bytes):
                ws.send_bytes(frame)
            else:
                ws.send_text(frame)
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 4400


def test_bots_call_live_method_when_the_first_of_the_group_arrives(tmp_path):
    settings = _settings(tmp_path)
    results = run_bots(settings, "live", database_url=settings.database_url)
    assert [result.error for result in results] == [None]
