"""A SQLite file's reads run on their thread's kept connection (``server.db._KeptReaders``):
one driver connection for a thread's reads, never left in a transaction between them (each
read sees what was committed before it began), a read inside a read on another connection,
every statement seen by the database's engine listeners, all of them closed by dispose."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.db import Database
from tests import databases

pytestmark = pytest.mark.sqlite


def _database(tmp_path: Path) -> Database:
    database = Database(databases.database_url(tmp_path, "db", backend=databases.SQLITE))
    database.run(lambda db: db.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, v)")))
    return database


def _driver_connection(db: Any) -> Any:
    return db.connection().connection.dbapi_connection


def _count(db: Any) -> int:
    return db.scalar(sa.text("SELECT count(*) FROM t"))


def _insert(database: Database) -> None:
    database.run(lambda db: db.execute(sa.text("INSERT INTO t (v) VALUES ('x')")))


def test_a_threads_reads_share_one_connection_and_each_sees_the_latest_commit(
    tmp_path: Path,
) -> None:
    database = _database(tmp_path)
    try:
        seen = []
        with database.read() as db:
            first = _driver_connection(db)
            seen.append(_count(db))
        _insert(database)
        with database.read() as db:
            assert _driver_connection(db) is first
            seen.append(_count(db))
            assert db.connection().in_transaction()
        # Between reads the kept connection is in no transaction: a write committed meanwhile
        # by another connection is seen, and a checkpoint can copy the whole log back.
        assert first.in_transaction is False
        assert database.sqlite_path is not None
        with sqlite3.connect(database.sqlite_path) as other:
            other.execute("INSERT INTO t (v) VALUES ('y')")
        with database.read() as db:
            seen.append(_count(db))
            assert _driver_connection(db) is first
        with sqlite3.connect(database.sqlite_path) as other:
            busy, _frames, _copied = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
        assert seen == [0, 1, 2]
    finally:
        database.dispose()


def test_other_threads_and_a_read_inside_a_read_use_other_connections(tmp_path: Path) -> None:
    database = _database(tmp_path)
    try:
        with database.read() as outer:
            mine = _driver_connection(outer)
            assert _count(outer) == 0
            _insert(database)
            with database.read() as inner:
                assert _driver_connection(inner) is not mine
                assert _count(inner) == 1  # a transaction of its own, begun after the write
            assert _count(outer) == 0  # the outer read's snapshot is unchanged
        found: list[Any] = []

        def read_elsewhere() -> None:
            with database.read() as db:
                found.append(_driver_connection(db))
                found.append(_count(db))

        thread = threading.Thread(target=read_elsewhere)
        thread.start()
        thread.join()
        assert found[0] is not mine
        assert found[1] == 1
    finally:
        database.dispose()


def test_a_failed_read_leaves_the_next_one_a_fresh_transaction(tmp_path: Path) -> None:
    database = _database(tmp_path)
    try:
        with database.read() as db:
            assert _count(db) == 0
            with pytest.raises(sa.exc.OperationalError):
                db.execute(sa.text("SELECT * FROM no_such_table"))
        with pytest.raises(sa.exc.OperationalError), database.read() as db:
            db.execute(sa.text("SELECT * FROM no_such_table"))
        _insert(database)
        with database.read() as db:
            assert _count(db) == 1
    finally:
        database.dispose()


def test_the_engines_listeners_see_the_reads_statements(tmp_path: Path) -> None:
    database = _database(tmp_path)
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", note)
    try:
        for _ in range(2):
            with database.read() as db:
                _count(db)
        assert statements == ["SELECT count(*) FROM t"] * 2
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", note)
        database.dispose()


def test_dispose_closes_the_kept_connections(tmp_path: Path) -> None:
    database = _database(tmp_path)
    with database.read() as db:
        kept = _driver_connection(db)
    database.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        kept.execute("SELECT 1")
    with database.read() as db:  # a read after dispose opens a new one
        assert _count(db) == 0
    database.dispose()


def test_a_threads_end_closes_its_kept_connection(tmp_path: Path) -> None:
    database = _database(tmp_path)
    try:
        found: list[Any] = []

        def read_and_end() -> None:
            with database.read() as db:
                _count(db)
                found.append(_driver_connection(db))

        thread = threading.Thread(target=read_and_end)
        thread.start()
        thread.join()
        with pytest.raises(sqlite3.ProgrammingError):
            found[0].execute("SELECT 1")
    finally:
        database.dispose()
