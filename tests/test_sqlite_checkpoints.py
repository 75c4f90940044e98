"""WAL checkpoints run in their own thread, not in a writer's COMMIT under Grove's write lock
(server/sqlite_checkpoints.py): the connections that write never checkpoint by themselves, and
the log is still copied back and started over, so it stays bounded."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from server import sqlite_checkpoints
from server.db import Database
from tests import databases

pytestmark = pytest.mark.sqlite


def test_writers_leave_checkpoints_to_the_thread_and_the_log_stays_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_checkpoints, "CHECK_SECONDS", 0.01)
    database = Database(databases.database_url(tmp_path, "db", backend=databases.SQLITE))
    try:
        database.run(lambda db: db.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, v)")))
        with database.read() as db:
            assert db.scalar(sa.text("PRAGMA wal_autocheckpoint")) == 0
        checkpointer = database._checkpointer
        assert checkpointer is not None
        for batch in range(60):
            database.run(
                lambda db, b=batch: db.execute(
                    sa.text("INSERT INTO t (v) VALUES (:v)"),
                    [{"v": "x" * 2000 + str(b * 100 + i)} for i in range(100)],
                )
            )
            time.sleep(0.005)
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.checkpoints >= 2  # the thread checkpoints while writes go on
        checkpointer.stop()
        # Its checkpoint after the last write copies the log back whole, and the next write
        # starts the log over: about 3,000 pages were written, it holds that write's few.
        assert database.sqlite_path is not None
        with sqlite3.connect(database.sqlite_path) as own:
            checkpointer.note_commit()
            assert checkpointer.checkpoint_if_due(own)
            assert not checkpointer.checkpoint_if_due(own)  # nothing committed since
            database.run(lambda db: db.execute(sa.text("INSERT INTO t (v) VALUES ('last')")))
            _busy, frames, _copied = own.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert 0 <= frames < 50, frames
        with database.read() as db:
            assert db.scalar(sa.text("SELECT count(*) FROM t")) == 6001
    finally:
        database.dispose()
    assert checkpointer._thread is None  # stopped with the database
