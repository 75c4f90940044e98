"""PostgreSQL connections lost between requests (a restart, ``pg_terminate_backend``, an idle
timeout) cost the participant nothing: the next page GET, page POST and live message succeed,
each once (server/db.py, LOST CONNECTIONS)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

import server.db
from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.test_live_pages import (
    LIVE_PROJECT,
    _counter,
    _first_pair_connected,
    _next,
    _send,
    _start,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def live_app(tmp_path: Path) -> Any:
    url = databases.database_url(tmp_path, "live", backend=databases.POSTGRESQL)
    application = create_app(load_settings(LIVE_PROJECT, {"DATABASE_URL": url}))
    yield application
    application.state.grove.db.dispose()


@pytest.fixture
def client(live_app: Any) -> Any:
    with TestClient(live_app) as test_client:
        yield test_client


def _kill_pooled_connections(live_app: Any) -> None:
    """Terminate the server processes of the app's pooled connections (not the push hub's
    listener) and wait until they are gone."""
    pool = live_app.state.grove.db.engine.pool
    deadline = time.monotonic() + 5
    while pool.checkedout():  # a socket's hello may still be reading in another thread
        assert time.monotonic() < deadline, pool.status()
        time.sleep(0.01)
    held = [live_app.state.grove.db.engine.raw_connection() for _ in range(pool.checkedin())]
    try:
        pids = [connection.driver_connection.info.backend_pid for connection in held]
    finally:
        for connection in held:
            connection.close()
    assert pids, f"no pooled connection to lose: {pool.status()}"
    engine = sa.create_engine(live_app.state.grove.db.url, poolclass=sa.pool.NullPool)
    alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"
    try:
        with engine.connect() as connection:
            for pid in pids:
                connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            deadline = time.monotonic() + 5
            while connection.scalar(sa.text(alive), {"pids": pids}):
                assert time.monotonic() < deadline, "the connections did not end"
                time.sleep(0.01)
                connection.rollback()
    finally:
        engine.dispose()


def test_a_page_get_post_and_live_message_after_the_pool_lost_its_connections(
    client: TestClient, live_app: Any
) -> None:
    pages = _start(client)
    with _first_pair_connected(client, pages) as (one, two):
        _kill_pooled_connections(live_app)
        page = client.get(pages[0])
        assert page.status_code == 200
        assert "grove-live.js" in page.text

        _kill_pooled_connections(live_app)
        assert _send(one, "k1", {"kind": "add", "amount": 5})["ok"] is True
        assert _next(two, "message")["data"] == {"counter": 5, "from": 1}

        _kill_pooled_connections(live_app)
        assert _send(one, "k2", {"kind": "finish"})["ok"] is True
        _kill_pooled_connections(live_app)
        done = client.post(pages[0], data={}, follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"].endswith("/live_test/Done/2")
    assert _counter(live_app) == 5  # the message counted once


def test_a_connection_lost_unseen_is_found_by_the_first_statement_and_replaced(
    client: TestClient, live_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the pool could not tell (a connection dropped without a word from the server):
    # the unit of work's first statement fails, and the unit runs again on a new connection.
    monkeypatch.setattr(server.db, "_closed_by_server", lambda _connection: False)
    pages = _start(client)
    with _first_pair_connected(client, pages) as (one, two):
        _kill_pooled_connections(live_app)
        assert _send(one, "k1", {"kind": "add", "amount": 5})["ok"] is True
        assert _next(two, "message")["data"] == {"counter": 5, "from": 1}
        assert _send(one, "k2", {"kind": "finish"})["ok"] is True

        _kill_pooled_connections(live_app)
        done = client.post(pages[0], data={}, follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"].endswith("/live_test/Done/2")
    assert _counter(live_app) == 5
