"""The database: engine, transactions and the locking rules that make several workers safe.

Every request that writes runs in one transaction from :meth:`Database.transaction`.

* SQLite: each write transaction starts with ``BEGIN IMMEDIATE``, which takes the database's
  write lock up front. Two workers can therefore never both read "2 of 3 arrived" and both
  decide they are not last: the second waits (``busy_timeout``) until the first commits and
  then reads the committed state. WAL mode keeps readers unblocked meanwhile.
* PostgreSQL: transactions run at READ COMMITTED and take row locks (``SELECT ... FOR UPDATE``)
  on the rows they decide on (the participant, the group, the study's urn state). A waiting
  transaction re-reads the locked row and sees everything its predecessor committed.

LOCK ORDER. Every unit of work takes the row locks it needs in this one order, and takes a
lock before it reads what it decides on:

0. the room's row (``grove_room_state``, ``rooms.lock_room``), for a room's arrivals, vars
   posted for a room label, and closing the room;
1. the session row (``grove_session``), only for what changes a whole session (a room
   arrival claiming a free participant);
2. the subsession row, then the group row, of the page a participant is on (the scope a wait
   page counts arrivals in; ``participant_pages.lock_participant``);
3. participant rows, in ascending id (``lock_ids_in_order``);
4. everything else: pending participant vars, room presence, the urn study's state, chat.

A wait page's last arrival holds its group and then writes the other members' participant
rows (``player.payoff`` adds to ``participant.payoff``): a waiting member's request that
locked its own participant before the group would deadlock with it. App hooks may still
write rows in an order no rule can fix (a hook writing another group's players), so on
PostgreSQL a unit of work aborted as a deadlock or serialization failure is run again from
the start (``Database.run``), before anything was acknowledged.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 60_000
# PostgreSQL's SQLSTATEs for a transaction aborted only because of its concurrent peers.
RETRYABLE_SQLSTATES = {"40P01": "deadlock detected", "40001": "serialization failure"}
UNIT_OF_WORK_ATTEMPTS = 5

logger = logging.getLogger("grove.db")
T = TypeVar("T")


def lock_ids_in_order(db: Session, model: Any, ids: Iterable[int]) -> None:
    """Row-lock these rows of ``model`` in ascending id (LOCK ORDER step 3 and below).

    On SQLite the transaction already holds the database's write lock, and SQLAlchemy leaves
    ``FOR UPDATE`` out.
    """
    wanted = sorted(set(ids))
    if wanted:
        db.execute(
            sa.select(model.id).where(model.id.in_(wanted)).order_by(model.id).with_for_update()
        ).all()


def dialect_insert(db: Session, model: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for ``model`` that can say ``ON CONFLICT`` on this database (PostgreSQL or
    SQLite): two first writers of one unique row make one row, not a server error."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _retryable(error: BaseException) -> str | None:
    """The reason a database error may be retried (a deadlock, a serialization failure)."""
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return RETRYABLE_SQLSTATES.get(str(sqlstate)) if sqlstate else None


def normalise_database_url(url: str) -> str:
    """Accept Heroku-style ``postgres://`` URLs and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _is_memory_database(url: str | sa.URL) -> bool:
    """An in-memory SQLite database, or one given as a ``file:`` URI: no plain file path."""
    database = sa.make_url(url).database
    return not database or database == ":memory:" or database.startswith("file:")


class _ProcessLock:
    """An exclusive advisory lock (``flock``) on a file beside the SQLite database.

    Held by one thread of a process at a time (callers hold a thread lock first), so one file
    descriptor per process is enough.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    @classmethod
    def for_database(cls, engine: sa.Engine) -> _ProcessLock | None:
        """The lock for a file database; None for an in-memory one."""
        if _is_memory_database(engine.url):
            return None
        database = Path(str(engine.url.database))
        return cls(database.resolve().with_name(database.name + ".writelock"))

    def __enter__(self) -> None:
        if self._fd is None or self._pid != os.getpid():  # a forked child needs its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)


class Database:
    """One engine and the two ways to open a unit of work on it."""

    def __init__(self, url: str, *, echo: bool = False, info: dict[str, Any] | None = None) -> None:
        self.url = normalise_database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        # Pools as large as the threads that use them (Starlette's thread pool has 40): a
        # connection opened past the pool size is closed again after one request, and
        # opening one (PRAGMAs on SQLite, a login on PostgreSQL) cost more than the request.
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
            if not _is_memory_database(self.url):
                kwargs.update(poolclass=sa.pool.QueuePool, pool_size=40, max_overflow=10)
        else:
            kwargs.update(pool_pre_ping=True, pool_size=20, max_overflow=20)
        self.engine = sa.create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sqlite_write_lock = threading.Lock()
        self._sqlite_process_lock = (
            _ProcessLock.for_database(self.engine) if self.is_sqlite else None
        )
        # ``info`` reaches model code through ``object_session(obj).info`` (e.g. the project).
        self.info: dict[str, Any] = info if info is not None else {}
        self._writer = sessionmaker(self.engine, expire_on_commit=False, info=self.info)
        reader_engine = (
            self.engine.execution_options(sqlite_begin="DEFERRED")
            if self.is_sqlite
            else self.engine
        )
        self._reader = sessionmaker(reader_engine, expire_on_commit=False, info=self.info)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: commit on success, roll back everything on any exception."""
        if self.is_sqlite:
            # Threads of one process queue here instead of in SQLite's busy handler, which
            # polls with sleeps of up to 100 ms. Correctness never rests on this lock:
            # BEGIN IMMEDIATE still serializes writers across processes. Across processes,
            # an advisory file lock does the same job: the kernel wakes the next writer the
            # moment the lock is free, where SQLite's handler would sleep.
            with (
                self._sqlite_write_lock,
                self._sqlite_process_lock or contextlib.nullcontext(),
                self._writer() as session,
                session.begin(),
            ):
                yield session
            return
        with self._writer() as session, session.begin():
            yield session

    def run(self, unit_of_work: Callable[[Session], T]) -> T:
        """Run ``unit_of_work(db)`` in one write transaction and return what it returns.

        Committed on return, rolled back on any exception. On PostgreSQL a transaction aborted
        as a deadlock or serialization failure is run again from the start (at most
        UNIT_OF_WORK_ATTEMPTS times, after a short random pause): nothing of it was committed
        or acknowledged, so the caller sees one unit of work either way.
        """
        for attempt in range(1, UNIT_OF_WORK_ATTEMPTS + 1):
            try:
                with self.transaction() as session:
                    return unit_of_work(session)
            except sa.exc.DBAPIError as error:
                reason = _retryable(error)
                if reason is None or attempt == UNIT_OF_WORK_ATTEMPTS:
                    raise
                logger.info("unit of work aborted (%s); attempt %d again", reason, attempt + 1)
                time.sleep(random.uniform(0.001, 0.02 * attempt))
        raise AssertionError("unreachable")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work that never holds SQLite's write lock."""
        with self._reader() as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
