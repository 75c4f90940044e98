"""Found 2026-12-03 (review of what a unit of work run again, or given up, leaves behind): an
async live method whose later step cannot be stored because the database stays busy (a step's
unit of work waited past the lock timeout, or on PostgreSQL met other writers
UNIT_OF_WORK_ATTEMPTS times) was acknowledged with ``retry``: "nothing ran, send it again".
But its first unit of work had committed (the message's receipt, the participant's turn, the
first step's answer and writes), so the page's resend was a duplicate, acknowledged ``ok``,
and the method's later steps were dropped without a word: the page was told the message ran.
Measured before the fix (SQLite, 1 run): the first ack {"ok": false, "retry": true}, the
resend's {"ok": true}, the group's counter 1 (the second step's +10 never stored).

Now a step that fails after the first unit of work committed, the database's fault included,
is answered as a step that raises: ``ok`` false with the error, no ``retry`` (the steps before
it keep what they stored, as before).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server import live_pages
from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.test_live_async import _counter, _pages
from tests.test_live_pages import _hello, _next, _send, _socket_url

LIVE_PROJECT = Path(__file__).resolve().parent / "projects" / "live"


@pytest.fixture(autouse=True)
def _roomy_steps(monkeypatch):
    monkeypatch.setattr(live_pages, "ASYNC_STEP_SECONDS", 30.0)


@pytest.fixture
def database_url(tmp_path):
    return databases.database_url(tmp_path, "live_async")


@pytest.fixture
def live_app(database_url):
    settings = {"DATABASE_URL": database_url, "GROVE_DB_LOCK_TIMEOUT": "0.5"}
    application = create_app(load_settings(LIVE_PROJECT, settings))
    yield application
    application.state.grove.db.dispose()


@contextmanager
def _database_held(url: str) -> Iterator[None]:
    """Another program holding what the step's unit of work needs: SQLite's write lock, or on
    PostgreSQL the groups' rows."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(databases.sqlite_file(url), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = databases.engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("SELECT id FROM live_async_group FOR UPDATE").all()
            yield
    finally:
        engine.dispose()


def test_a_step_the_database_could_not_store_is_not_acknowledged_as_run(
    live_app, database_url, tmp_path
):
    release = tmp_path / "release"
    with TestClient(live_app) as client:
        pages = _pages(client)
        with client.websocket_connect(_socket_url(pages[0])) as sender:
            _hello(sender, time.time())
            data = {"release": str(release)}
            sender.send_json({"type": "send", "id": "b-1", "data": data})
            assert _next(sender, "message")["data"] == {"step": 1, "counter": 1}
            with _database_held(database_url):
                release.touch()  # the second step runs; its unit of work cannot store it
                ack = _next(sender, "ack")
            final = ack
            if ack.get("retry"):  # as grove-live.js: the same message sent again
                final = _send(sender, "b-1", data)
        counter = _counter(live_app)
    outcome = (bool(ack.get("retry")), final["ok"], counter)
    assert outcome == (False, False, 1), (ack, final, counter)
    assert "live_method" in final["error"]


def test_the_first_unit_of_work_busy_is_still_sent_again(live_app, database_url, tmp_path):
    """The message's first unit of work could not run: nothing was stored, so ``retry``."""
    release = tmp_path / "release"
    release.touch()
    with TestClient(live_app) as client:
        pages = _pages(client)
        with client.websocket_connect(_socket_url(pages[0])) as sender:
            _hello(sender, time.time())
            data = {"release": str(release)}
            with _database_held(database_url):
                ack = _send(sender, "b-2", data)
            assert (ack["ok"], ack.get("retry")) == (False, True), ack
            again = _send(sender, "b-2", data)
        counter = _counter(live_app)
    assert (again["ok"], counter) == (True, 11), again


def test_the_turn_is_given_back_once_the_database_is_free_again(live_app, database_url, tmp_path):
    """The failed step's method ends while the database is still busy, so its turn cannot be
    given back at once; the participant's next async live message runs as soon as it can,
    not once the turn has gone stale (ASYNC_STEP_SECONDS, 30 s here, plus 40 s). Before: the
    next message waited 70 s (SQLite, 1 run)."""
    release = tmp_path / "release"
    with TestClient(live_app) as client:
        pages = _pages(client)
        with client.websocket_connect(_socket_url(pages[0])) as sender:
            _hello(sender, time.time())
            sender.send_json({"type": "send", "id": "t-1", "data": {"release": str(release)}})
            assert _next(sender, "message")["data"] == {"step": 1, "counter": 1}
            with _database_held(database_url):
                release.touch()
                assert _next(sender, "ack")["ok"] is False
            started = time.monotonic()
            ack = _send(sender, "t-2", {"release": str(release)})
            waited = time.monotonic() - started
        counter = _counter(live_app)
    assert (ack["ok"], counter) == (True, 12), ack
    assert waited < 20, waited
