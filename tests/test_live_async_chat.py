"""An async live method as a researcher's chat with a language model uses it: a web API's
client made once for the app (oTree's documentation: ``OPENAI_CLIENT = AsyncOpenAI(...)``
at module level), ExtraModel rows of the conversation created and withdrawn within a step.
Through the live page's WebSocket, as tests/test_live_async.py does; the app is
tests/projects/live/apps/live_async (its Lab page)."""

from __future__ import annotations

import http.server
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient
from websockets.sync.client import connect

from server import live_pages
from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.live_server import live_server
from tests.test_live_async import LIVE_PROJECT, _pages
from tests.test_live_pages import _hello, _next, _socket_url


@pytest.fixture(autouse=True)
def _roomy_steps(monkeypatch):
    monkeypatch.setattr(live_pages, "ASYNC_STEP_SECONDS", 30.0)


@pytest.fixture
def live_app(tmp_path):
    url = databases.database_url(tmp_path, "live_async_chat")
    application = create_app(load_settings(LIVE_PROJECT, {"DATABASE_URL": url}))
    yield application
    application.state.grove.db.dispose()


@pytest.fixture
def client(live_app):
    with TestClient(live_app) as test_client:
        yield test_client


class _FakeModel(http.server.BaseHTTPRequestHandler):
    """A language model's web API: answers ``?q=`` at once, keeping the connection open
    (HTTP/1.1), as an API's server does."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        question = parse_qs(urlsplit(self.path).query)["q"][0]
        body = f"an answer to {question}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def model_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def _lab_page(client: TestClient) -> str:
    page = _pages(client)[0]
    for _ in range(3):  # Stream, Refused, Chat: on to Lab
        page = str(client.post(page, data={}, follow_redirects=True).url)
        page = page.replace("http://testserver", "")
    assert "/Lab/" in page
    return page


def _ask(ws, key: str, data: dict) -> tuple[dict, dict | None]:
    """Send one message; its ack and (if it succeeded) its answer."""
    ws.send_json({"type": "send", "id": key, "data": data})
    ack = _next(ws, "ack")
    return ack, _next(ws, "message")["data"] if ack["ok"] else None


def _texts(live_app, role: str) -> list[str]:
    message = live_app.state.grove.project.apps["live_async"].module.Message
    with live_app.state.grove.db.read() as db:
        query = sa.select(message.text).where(message.role == role).order_by(message.id)
        return list(db.scalars(query))


def test_a_model_client_made_once_answers_every_message(client, live_app, model_url):
    # oTree runs every async live method on the server's one event loop, so a client made
    # at import keeps working. Each message's own loop (closed after it) left the client's
    # kept connection on a closed loop: every other message failed, "Event loop is closed".
    page = _lab_page(client)
    with client.websocket_connect(_socket_url(page)) as ws:
        _hello(ws, time.time())
        for number in range(1, 5):
            data = {"kind": "model", "model": model_url, "text": f"question {number}"}
            ack, answer = _ask(ws, f"m-{number}", data)
            assert ack["ok"] is True, ack
            assert answer == {"answer": f"an answer to question {number}"}
    assert _texts(live_app, "assistant") == [f"an answer to question {n}" for n in range(1, 5)]


def test_a_row_created_and_deleted_in_one_step_is_never_stored(client, live_app):
    # oTree: Message.create(...) then .delete() in the same method leaves no row.
    page = _lab_page(client)
    with client.websocket_connect(_socket_url(page)) as ws:
        _hello(ws, time.time())
        ack, answer = _ask(ws, "d-1", {"kind": "take_back", "text": "first"})
        assert ack["ok"] is True, ack
        assert answer == {"drafts": 0}
        # A draft stored by one message, deleted by the next (with that message's own).
        ack, answer = _ask(ws, "d-2", {"kind": "take_back", "text": "kept", "keep": True})
        assert answer == {"drafts": 1}
        assert _texts(live_app, "draft") == ["kept"]
        ack, answer = _ask(ws, "d-3", {"kind": "take_back", "text": "second"})
        assert ack["ok"] is True, ack
        assert answer == {"drafts": 0}
    assert _texts(live_app, "draft") == []


def test_a_reloaded_page_waits_for_the_method_its_first_copy_started(client, live_app, tmp_path):
    # The page is reloaded while its method awaits the model (its first socket's method goes
    # on to its end), and the participant asks again. oTree runs one participant's async
    # live methods one at a time (a lock per participant), so a method changing only its
    # own player is safe ("only modifying the current player"): both questions count.
    page = _lab_page(client)
    first_release, second_release = tmp_path / "first", tmp_path / "second"
    with (
        client.websocket_connect(_socket_url(page)) as first,
        client.websocket_connect(_socket_url(page)) as reloaded,
    ):
        for ws in (first, reloaded):
            _hello(ws, time.time())
        first.send_json(
            {"type": "send", "id": "a-1", "data": {"kind": "count", "release": str(first_release)}}
        )
        time.sleep(0.3)  # the first method awaits its model
        reloaded.send_json(
            {"type": "send", "id": "b-1", "data": {"kind": "count", "release": str(second_release)}}
        )
        time.sleep(0.3)
        second_release.touch()
        time.sleep(0.3)
        first_release.touch()
        assert _next(first, "ack")["ok"] is True
        assert _next(reloaded, "ack")["ok"] is True
    player_cls = live_app.state.grove.project.apps["live_async"].player_cls
    with live_app.state.grove.db.read() as db:
        asked = db.scalars(sa.select(player_cls.asked).where(player_cls.asked > 0)).all()
    assert asked == [2]


def _open_read_transactions(url: str) -> list[str]:
    """What shows that a connection holds a read transaction open: on PostgreSQL the
    sessions 'idle in transaction' on this database; on SQLite a checkpoint that cannot
    copy the whole log back (a reader keeps an older snapshot: the log cannot start over,
    and grows while such readers overlap)."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(databases.sqlite_file(url), timeout=2.0)
        try:
            # The server's own checkpoints (one at a time) answer busy too: a few tries.
            for _ in range(5):
                busy, _log, _copied = connection.execute(
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                ).fetchone()
                if not busy:
                    return []
                time.sleep(0.1)
        finally:
            connection.close()
        return ["a reader holds a snapshot"]
    engine = databases.engine(url)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    sa.text(
                        "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                    )
                )
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", databases.BOTH)
def test_a_step_awaiting_its_model_holds_no_read_transaction(backend, tmp_path):
    # A chat reads the conversation, then awaits the model for seconds. No transaction may
    # stay open meanwhile: on PostgreSQL an 'idle in transaction' session holds its locks
    # (and a pooler's server connection); on SQLite an open read keeps the write-ahead log
    # from starting over, so with participants' steps overlapping it grows all session long.
    url = databases.database_url(tmp_path, "live_async_reads", backend=backend)
    application = create_app(load_settings(LIVE_PROJECT, {"DATABASE_URL": url}))
    release = tmp_path / "release"
    try:
        with TestClient(application) as test_client:
            page = _lab_page(test_client)
            with test_client.websocket_connect(_socket_url(page)) as ws:
                _hello(ws, time.time())
                data = {"kind": "read_then_wait", "release": str(release)}
                ws.send_json({"type": "send", "id": "r-1", "data": data})
                time.sleep(0.5)  # the step has read and awaits
                held = _open_read_transactions(url)
                release.touch()
                assert _next(ws, "ack")["ok"] is True
            assert held == []
    finally:
        release.touch()
        application.state.grove.db.dispose()


@pytest.mark.slow
def test_a_page_closed_while_its_method_awaits_is_no_application_error(tmp_path):
    # The participant closes the tab while the model answers (prodserver, a real socket):
    # the method goes on to its end and its writes are stored; the acknowledgement nobody
    # can receive is dropped. It was an "Exception in ASGI application" with a traceback in
    # the server's log (WebSocketDisconnected), for every page closed during an answer.
    url = databases.database_url(tmp_path, "live_async_closed")
    log_path = tmp_path / "server.log"
    release = tmp_path / "release"
    env = {"GROVE_PROJECT_ROOT": str(LIVE_PROJECT)}
    with live_server(url, workers=1, extra_env=env, log_path=log_path) as base:
        created = httpx.post(
            f"{base}/api/sessions/",
            json={"session_config_name": "live_async", "num_participants": 2},
            timeout=60,
        )
        assert created.status_code == 200, created.text
        code = httpx.get(f"{base}/api/sessions/{created.json()['code']}", timeout=60).json()[
            "participants"
        ][0]["code"]
        page = httpx.get(f"{base}/InitializeParticipant/{code}", follow_redirects=True).url.path
        socket_url = base.replace("http://", "ws://") + _socket_url(page)
        with connect(socket_url, open_timeout=30) as ws:
            ws.send(json.dumps({"type": "hello", "since": time.time(), "seen": []}))
            data = {"release": str(release)}
            ws.send(json.dumps({"type": "send", "id": "s-1", "data": data}))
            assert json.loads(ws.recv(timeout=30))["data"] == {"step": 1, "counter": 1}
        release.touch()  # the page is gone: the model answers
        engine = databases.engine(url)
        try:
            deadline = time.monotonic() + 30
            while True:
                with engine.connect() as connection:
                    counter = connection.scalar(sa.text("SELECT counter FROM live_async_group"))
                if counter == 11:
                    break
                assert time.monotonic() < deadline, f"the counter stayed {counter}"
                time.sleep(0.05)
        finally:
            engine.dispose()
        time.sleep(0.5)  # the acknowledgement's turn
    log = log_path.read_text(errors="replace")
    assert "Exception in ASGI application" not in log, log[-3000:]


def test_methods_awaiting_their_model_hold_no_server_thread(client, live_app, tmp_path):
    # A worker's requests share one pool of threads (40; here 3). Each message awaiting its
    # model held one for the whole await: with 50 chats awaiting a 4 s model on one worker
    # (prodserver), another participant's page took 3.5 s, the time the model took. Now the
    # awaits hold none: 4 chats await while the pool has 3 threads, and a page still shows.
    client.portal.call(_set_threads, 3)
    releases = [tmp_path / f"release-{n}" for n in range(4)]
    sockets = []
    try:
        pages = [_lab_page(client) for _ in range(2)]
        pages += [_lab_page(client) for _ in range(2)]
        with ExitStack() as stack:
            for number, page in enumerate(pages):
                ws = stack.enter_context(client.websocket_connect(_socket_url(page)))
                _hello(ws, time.time())
                data = {"kind": "count", "release": str(releases[number])}
                ws.send_json({"type": "send", "id": f"w-{number}", "data": data})
                sockets.append(ws)
            time.sleep(0.5)  # every method awaits its model
            started = time.monotonic()
            shown = _in_thread(lambda: client.get(_pages(client)[0]), seconds=10)
            took = time.monotonic() - started
            for release in releases:
                release.touch()
            assert shown is not None
            assert shown.status_code == 200
            assert took < 3, f"a page waited {took:.1f} s for the methods' awaits"
            for ws in sockets:
                assert _next(ws, "ack")["ok"] is True
    finally:
        for release in releases:
            release.touch()
        client.portal.call(_set_threads, 40)


def _set_threads(count: int) -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = count


def _in_thread(work, seconds: float):
    """``work()`` in a thread of its own; its result (or what it raised), or None when it
    took over ``seconds``."""
    done: list[Any] = []

    def run() -> None:
        try:
            done.append(work())
        except Exception as error:
            done.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return done[0] if done else None


def test_vars_a_method_holds_on_to_across_its_yields_are_stored(client, live_app):
    # oTree keeps the method's objects for its whole run: a list taken from participant.vars
    # before a yield and appended to after it is the participant's. Each step's reading
    # afresh replaced vars by a new copy, so what the next step added to the list it held
    # went nowhere, unless the step before had itself changed vars.
    page = _lab_page(client)
    with client.websocket_connect(_socket_url(page)) as ws:
        _hello(ws, time.time())
        for number, text in enumerate(["first", "second", "third"], start=1):
            ws.send_json(
                {"type": "send", "id": f"t-{number}", "data": {"kind": "thinking", "text": text}}
            )
            assert _next(ws, "message")["data"] == {"thinking": True}
            assert _next(ws, "message")["data"]["replies"][-1] == text
            assert _next(ws, "ack")["ok"] is True
    with live_app.state.grove.db.read() as db:
        stored = [v for v in db.scalars(sa.select(live_pages.Participant.vars)) if v.get("replies")]
    assert stored == [{"replies": ["first", "second", "third"]}]


def test_methods_awaiting_after_a_read_hold_no_connection_pages_need(tmp_path, monkeypatch):
    # A chat reads its history, then awaits the model. The connection it read on stayed
    # its own until the step ended: 80 such chats on one worker used up the pool pages use
    # (50 on SQLite; prodserver) and a page GET waited 29.6 s. Here the worker's pool is cut
    # to 3 connections, and 4 chats await after their read: a page still shows at once.
    real_create_engine = sa.create_engine

    def small_pool(url, **kwargs):
        if kwargs.get("pool_size") in (20, 40):  # the pool of the worker's requests
            kwargs.update(pool_size=3, max_overflow=0, pool_timeout=2)
        return real_create_engine(url, **kwargs)

    monkeypatch.setattr("server.db.sa.create_engine", small_pool)
    url = databases.database_url(tmp_path, "live_async_pool")
    application = create_app(load_settings(LIVE_PROJECT, {"DATABASE_URL": url}))
    releases = [tmp_path / f"release-{n}" for n in range(4)]
    try:
        with TestClient(application) as test_client, ExitStack() as stack:
            pages = [_lab_page(test_client) for _ in range(4)]
            sockets = []
            for number, page in enumerate(pages):
                ws = stack.enter_context(test_client.websocket_connect(_socket_url(page)))
                _hello(ws, time.time())
                data = {"kind": "read_then_wait", "release": str(releases[number])}
                ws.send_json({"type": "send", "id": f"p-{number}", "data": data})
                sockets.append(ws)
            time.sleep(0.5)  # every method has read and awaits its model
            started = time.monotonic()
            shown = _in_thread(lambda: test_client.get(pages[0]), seconds=10)
            took = time.monotonic() - started
            for release in releases:
                release.touch()
            assert shown is not None
            assert not isinstance(shown, Exception), repr(shown)
            assert shown.status_code == 200
            assert took < 1.5, f"a page waited {took:.1f} s for a connection"
            for ws in sockets:
                assert _next(ws, "ack")["ok"] is True
    finally:
        for release in releases:
            release.touch()
        application.state.grove.db.dispose()


def test_a_turn_left_by_a_worker_that_died_is_taken_over(client, live_app):
    # A worker killed while a participant's async live method ran leaves their turn taken;
    # once older than a step may last (and between two stamps), the next message takes it.
    page = _lab_page(client)
    code = page.split("/")[2]
    left = time.time() - live_pages.TURN_STAMP_SECONDS - live_pages.ASYNC_STEP_SECONDS - 31
    with live_app.state.grove.db.transaction() as db:
        db.add(
            live_pages.LiveReceipt(
                participant_code=code, message_key=live_pages.RUNNING_KEY, created_at=left
            )
        )
    with client.websocket_connect(_socket_url(page)) as ws:
        _hello(ws, time.time())
        ws.send_json({"type": "send", "id": "d-1", "data": {"kind": "thinking", "text": "on"}})
        assert _next(ws, "message")["data"] == {"thinking": True}
        assert _next(ws, "ack")["ok"] is True
    with live_app.state.grove.db.read() as db:
        receipts = db.scalars(
            sa.select(live_pages.LiveReceipt.message_key).where(
                live_pages.LiveReceipt.participant_code == code
            )
        ).all()
    assert receipts == ["d-1"]  # the turn was taken, then given back


def test_vars_set_by_the_page_while_a_method_awaits_are_kept(client, live_app, tmp_path):
    # The participant submits the page (its before_next_page notes it in vars) while their
    # method awaits the model, which then stores the count it changed in vars: both stay.
    # The step stored the whole vars it had read before the submission, so the page's key
    # was lost.
    page = _lab_page(client)
    release = tmp_path / "release"
    with client.websocket_connect(_socket_url(page)) as ws:
        _hello(ws, time.time())
        data = {"kind": "note", "release": str(release)}
        ws.send_json({"type": "send", "id": "n-1", "data": data})
        time.sleep(0.3)  # the method awaits
        assert client.post(page, data={}, follow_redirects=False).status_code == 303
        release.touch()
        assert _next(ws, "ack")["ok"] is True
    code = page.split("/")[2]
    with live_app.state.grove.db.read() as db:
        stored = db.scalars(
            sa.select(live_pages.Participant.vars).where(live_pages.Participant.code == code)
        ).one()
    assert stored == {"questions": 1, "left_lab": True}


def test_a_row_an_async_step_stores_is_in_the_next_incremental_pull(client, live_app):
    # The step writes only an ExtraModel row, stored at its yield (README, "Incremental
    # pulls"): the participant is stamped, and the model's export brings the row.
    page = _lab_page(client)
    code = page.split("/")[2]
    pulls = {}
    for path in ("/api/export/live_async", "/api/export/live_async/Message"):
        pulls[path] = client.get(path, params={"format": "json"}).json()["next_since"]
    with client.websocket_connect(_socket_url(page)) as ws:
        _hello(ws, time.time())
        _ack, answer = _ask(ws, "s-1", {"kind": "take_back", "text": "kept", "keep": True})
        assert answer == {"drafts": 1}
    app_rows = client.get(
        "/api/export/live_async",
        params={"format": "json", "since": pulls["/api/export/live_async"]},
    ).json()["rows"]
    assert [row["participant.code"] for row in app_rows] == [code]
    rows = client.get(
        "/api/export/live_async/Message",
        params={"format": "json", "since": pulls["/api/export/live_async/Message"]},
    ).json()["rows"]
    assert [(row["role"], row["text"]) for row in rows] == [("draft", "kept")]
