"""PostgreSQL connections lost between requests (a restart, ``pg_terminate_backend``, an idle
timeout) cost the participant nothing: the next page GET, page POST and live message succeed,
each once (server/db.py, LOST CONNECTIONS)."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

import server.db
from server.app import create_app
from server.config import load_settings
from server.errors import DatabaseUnavailable
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
        for ws in (one, two):  # acknowledged after the hello's replay read: none is reading
            assert _send(ws, f"ready-{id(ws)}", {"kind": "none"})["ok"] is True
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


@pytest.fixture
def database(tmp_path: Path) -> Any:
    url = databases.database_url(tmp_path, "lost", backend=databases.POSTGRESQL)
    db = server.db.Database(url)
    with db.engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE answers (id serial PRIMARY KEY, v int)"))
    yield db
    db.dispose()


def _terminate_idle_connections(db: server.db.Database) -> None:
    """End the server processes behind every idle pooled connection of ``db``."""
    engine = sa.create_engine(db.url, poolclass=sa.pool.NullPool)
    others = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    try:
        with engine.connect() as connection:
            pids = list(connection.scalars(sa.text(others)))
            assert pids, "no pooled connection to lose"
            for pid in pids:
                connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            deadline = time.monotonic() + 5
            while set(connection.scalars(sa.text(others))) & set(pids):
                assert time.monotonic() < deadline, "the connections did not end"
                time.sleep(0.01)
                connection.rollback()
    finally:
        engine.dispose()


def _insert(db: server.db.Database, value: int) -> None:
    db.run(lambda s: s.execute(sa.text("INSERT INTO answers (v) VALUES (:v)"), {"v": value}))


def _values(db: server.db.Database) -> list[int]:
    with db.read() as session:
        return list(session.scalars(sa.text("SELECT v FROM answers ORDER BY id")))


def _lose_unseen(database: server.db.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """One row written (the pool has a connection), then every pooled connection lost as if
    the pool could not tell (dropped without a word from the server)."""
    _insert(database, 1)
    monkeypatch.setattr(server.db, "_closed_by_server", lambda _connection: False)
    _terminate_idle_connections(database)


def test_a_unit_of_work_on_a_connection_lost_unseen_runs_again_once(
    database: server.db.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The unit's first statement fails; it runs again on a new connection and writes once.
    _lose_unseen(database, monkeypatch)
    _insert(database, 2)
    assert _values(database) == [1, 2]


def test_an_idle_connection_is_pinged_before_a_read(
    database: server.db.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read is not run again: a connection lost unseen fails it, unless the pool pinged the
    # connection because it sat idle too long (a firewall's idle timeout, here 0 s).
    _lose_unseen(database, monkeypatch)
    with pytest.raises(DatabaseUnavailable):
        _values(database)  # not idle long: no ping
    _insert(database, 2)  # the failure replaced the pool's connections
    _terminate_idle_connections(database)
    monkeypatch.setattr(server.db, "IDLE_PING_SECONDS", 0.0)
    assert _values(database) == [1, 2]


class _Deadlock(Exception):
    sqlstate = "40P01"  # deadlock_detected: Database.run runs the unit again


def test_a_connection_lost_after_four_deadlocks_is_still_run_again(
    database: server.db.Database,
) -> None:
    """Four deadlocks, then the connection lost: the lost connection's one more run is not
    counted among the attempts (before, it ended the loop in an internal error, a 500)."""
    calls: list[int] = []

    def unit(session: Any) -> None:
        calls.append(1)
        session.execute(sa.text("INSERT INTO answers (v) VALUES (:v)"), {"v": len(calls)})
        if len(calls) <= 4:
            raise sa.exc.OperationalError("INSERT", {}, _Deadlock())
        if len(calls) == 5:
            session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))

    database.run(unit)
    assert len(calls) == 6
    assert _values(database) == [6]  # the rolled-back runs wrote nothing


def test_a_worker_with_over_1024_files_open_still_uses_the_pool(
    database: server.db.Database,
) -> None:
    """A live-page worker holds many sockets: the pool's connections get file numbers above
    1024, which ``select.select`` refuses (every checkout was taken for a lost connection)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        pytest.skip(f"the open files limit is {soft}")
    database.engine.dispose()  # the pool's connections closed: their low numbers taken next
    held = [open(os.devnull) for _ in range(1100)]  # noqa: SIM115
    try:
        for value in (1, 2, 3):
            _insert(database, value)
        assert _values(database) == [1, 2, 3]
    finally:
        for handle in held:
            handle.close()
