"""A queue of writers is not a stuck writer: SQLite's lock timeout counts from the last write
that finished, so a burst of writes longer than the timeout in all is waited out, in one
process and across processes, while a writer that holds the lock for the whole timeout still
fails the others (tests/test_database_failures.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.db import Database
from server.errors import DatabaseBusy
from tests import databases

# slow: queues that outlast the lock timeout, and another process.
pytestmark = [pytest.mark.sqlite, pytest.mark.slow]

TIMEOUT = 0.3
HOLD = 0.06


def _database(tmp_path: Path) -> Database:
    db = Database(databases.database_url(tmp_path, "queue", databases.SQLITE), lock_timeout=TIMEOUT)
    with db.transaction() as session:
        session.execute(sa.text("CREATE TABLE entry (id INTEGER PRIMARY KEY, who TEXT)"))
    return db


def _write(db: Database, who: str, hold: float = HOLD) -> None:
    with db.transaction() as session:
        session.execute(sa.text("INSERT INTO entry (who) VALUES (:who)"), {"who": who})
        time.sleep(hold)


def _count(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(sa.text("SELECT count(*) FROM entry")).scalar_one())


def test_threads_queued_longer_than_the_timeout_all_write(tmp_path):
    db = _database(tmp_path)
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            _write(db, f"thread {index}")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(15)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started > 2 * TIMEOUT  # the queue outlasted the timeout
    assert failures == []
    assert _count(db) == 15
    db.dispose()


def test_a_writer_waits_while_other_workers_hand_the_lock_on(tmp_path):
    """Other workers' writers keep the lock changing hands for three times the timeout (as
    each lets go it counts a handover in the lock file, as Grove's own lock does); a writer
    here waits them all out instead of failing after the timeout."""
    db = _database(tmp_path)
    url = databases.database_url(tmp_path, "queue", databases.SQLITE)
    lock_file = f"{databases.sqlite_file(url)}.writelock"
    other_workers = textwrap.dedent(
        f"""
        import fcntl, os, time
        fd = os.open({lock_file!r}, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("holding", flush=True)
        for handover in range(1, 16):
            time.sleep({HOLD})
            os.pwrite(fd, handover.to_bytes(8, "little"), 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", other_workers], stdout=subprocess.PIPE, text=True
    ) as workers:
        assert workers.stdout is not None
        assert workers.stdout.readline().strip() == "holding"
        started = time.monotonic()
        _write(db, "here", hold=0)
        waited = time.monotonic() - started
        assert workers.wait(timeout=30) == 0
    assert waited > 2 * TIMEOUT  # it did wait out the queue
    assert _count(db) == 1
    db.dispose()


def test_a_writer_holding_the_lock_for_the_whole_timeout_still_fails_the_others(tmp_path):
    db = _database(tmp_path)
    holding = threading.Event()

    def stuck() -> None:
        with db.transaction() as session:
            session.execute(sa.text("INSERT INTO entry (who) VALUES ('stuck')"))
            holding.set()
            time.sleep(3 * TIMEOUT)

    thread = threading.Thread(target=stuck)
    thread.start()
    holding.wait()
    started = time.monotonic()
    with pytest.raises(DatabaseBusy):
        _write(db, "behind", hold=0)
    assert time.monotonic() - started < 2.5 * TIMEOUT
    thread.join()
    assert _count(db) == 1
    db.dispose()
