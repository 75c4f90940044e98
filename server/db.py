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

0. the room's row (``grove_room_state``, ``room_definitions.lock_room``), for a room's
   arrivals, vars posted for a room label, closing the room, and creating a session in it;
1. the session row (``grove_session``), only for what changes a whole session (a room
   arrival claiming a free participant);
2. the subsession row, then the group row, of the page a participant is on (the scope a wait
   page counts arrivals in; ``participant_pages.lock_participant``, or
   ``lock_participant_in_scope`` when a live page's socket knows it from its last message);
   a group formed by arrival then also locks the later rounds' subsessions, in ascending
   round, before it copies the group to them (``arrival_grouping``);
3. participant rows, in ascending id (``lock_ids_in_order``);
4. everything else: pending participant vars, room presence, the urn study's state, chat.
   The audit log (``server/audit_log.py``) is only inserted into, inside the unit of work it
   records, and never locked.

Deleting a session (``session_admin.delete_session``) takes them all in this order: its room,
the session (FOR NO KEY UPDATE: a participant's unit of work holding its own row takes a
key-share lock on the session when it inserts a row that refers to it), every subsession and
group, every participant; then it deletes. A chat message locks its participant (3) first.
The admin's "advance" (``session_monitor.advance_participant``) locks one participant at a
time as a page submission does (2, then 3), each in a unit of work of its own; so do the admin
API's revert, end and dropout (``participant_actions``) and the sweep that plays on for
dropouts (``dropouts``). Creating, changing or deleting a stored room (``stored_rooms``) locks
the room's row (0) first.

A wait page's last arrival holds its group and then writes the other members' participant
rows (``player.payoff`` adds to ``participant.payoff``): a waiting member's request that
locked its own participant before the group would deadlock with it. So would one that kept
its participant's row while it went on to lock the scope of the page they were moved to
meanwhile (that page's completion locks every member's row): ``lock_participant`` locks the
row only if they are still on the page whose scope it holds, and else looks again. App
hooks may still write rows in an order no rule can fix (a hook writing another group's
players), so on PostgreSQL a unit of work aborted as a deadlock or serialization failure is
run again from the start (``Database.run``), before anything was acknowledged. An app hook
that writes a row its unit of work did not lock (session.vars, a subsession or another
group's field, another participant's vars, a player whose group and participant it does not
hold) never waits for it while holding its own:
``server/unlocked_writes.py`` locks it without waiting just before the write, and a unit that
finds it held, or changed since it read it, is run again with every row it held and wrote
locked first, in this order (``note_rows_held``, ``note_rows_wanted``). Such an attempt
writes nothing more (each later flush raises RunAgainWithLocks again, and a wait page's
move of its members ends there rather than go on one member at a time): it would else
write the row it could not lock in a plain UPDATE that waits for its holder, holding its own
group and participants meanwhile.

WAITING AND FAILING. No unit of work waits for a write lock longer than the lock timeout
(``Database(lock_timeout=)``, ``GROVE_DB_LOCK_TIMEOUT``) without progress: it fails with
DatabaseBusy, nothing stored. On SQLite the timeout counts from the last write that finished
(a queue of writers that keeps moving is waited out; a writer that holds Grove's lock, or
another program SQLite's, for the whole timeout fails the waiters); on PostgreSQL it is
``lock_timeout``, per row lock waited for. Reads never wait for a writer (WAL on SQLite, MVCC
on PostgreSQL). A SQLite file deleted, replaced or unwritable under a running server, a full
disk or an unreachable PostgreSQL fails the unit of work with DatabaseUnavailable: a write is
acknowledged only once it is committed to the database the server started with.

GROUP COMMIT. On a SQLite file every write transaction of every worker runs alone, and with
``synchronous=FULL`` each COMMIT waits for an fsync, so the writes a second were capped by
the disk. The units of work of one process that queue for the write lock therefore share one
transaction: the first writer that finds none running leads a batch (it takes the locks above
and BEGIN IMMEDIATE on one connection); each unit runs in its own session on that connection,
one at a time in arrival order, each queued unit in a SAVEPOINT, released on success or
rolled back (that unit alone, with its own exception) on failure. A unit queued through
``Database.run`` is run by the leader's thread, in the context (contextvars) of the thread
that queued it, which sleeps until the batch is settled; a ``Database.transaction`` block
runs in its own thread when its turn comes. The leader's
own unit runs first, when the transaction holds nothing else, so it needs no savepoint: its
failure rolls the transaction back and the queued units run in a new one. When no writer is queued,
or GROUP_COMMIT_MAX_UNITS have run, one COMMIT ends the batch and only then does any unit of
it return (a batch whose units stored push messages rings the commit bell once, before
that). If the COMMIT fails, or the file was deleted or replaced meanwhile, every unit of
the batch fails with DatabaseUnavailable: none was acknowledged. The writers queued after
that COMMIT began form the next batch, led by the first of them. A unit given its own
session (``writer_session``: an async live method's steps) runs alone as before. A queued
unit waits for its turn as a writer waits for the lock (WAITING AND FAILING). PostgreSQL
keeps one transaction per unit of work: its writers of different rows run in parallel.

LOST CONNECTIONS (PostgreSQL). A pooled connection is not pinged before each use (a round
trip per transaction); SQLAlchemy's optimistic way instead. A connection taken from the pool
with something to read on its idle socket was closed by the server (``pg_terminate_backend``,
a restart, ``idle_session_timeout`` send a message and close), so it is replaced before use,
at the cost of one ``poll`` call (``_closed_by_server``). One idle for over IDLE_PING_SECONDS
(which a firewall or NAT may have dropped without a word) is pinged first. A connection lost
unseen all the same fails its first statement with a disconnect error; SQLAlchemy then
invalidates the whole pool (every connection older than the failure is replaced at its next
use), and ``Database.run`` runs a unit of work that failed so, before its COMMIT was sent,
once more on a fresh connection (not counted among its attempts): the server had rolled it
back. A read is not run again (it fails with DatabaseUnavailable). A connection lost during
COMMIT may have committed: that unit is never run again; it fails with DatabaseUnavailable,
as does a second lost connection.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import math
import random
import select
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from server import commit_bell
from server.errors import DatabaseBusy, DatabaseUnavailable
from server.sqlite_checkpoints import WalCheckpointer
from server.sqlite_file import FileIdentity, ProcessWriteLock, check_location

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

# How long a unit of work waits for a write lock before it fails with DatabaseBusy (seconds).
DEFAULT_LOCK_TIMEOUT_SECONDS = 5.0
# PostgreSQL's SQLSTATEs for a transaction aborted only because of its concurrent peers.
RETRYABLE_SQLSTATES = {"40P01": "deadlock detected", "40001": "serialization failure"}
UNIT_OF_WORK_ATTEMPTS = 5
# Session.info key (PostgreSQL): {table: {id, ...}} of the rows this unit of work holds a lock
# on or wrote (``note_rows_held``); run again, it locks them first, in LOCK ORDER.
_ROWS_HELD_KEY = "grove_rows_held"
# Session.info key (PostgreSQL): {table: {id, ...}} of rows this attempt wrote without their
# lock and has not locked (``note_rows_wanted``): run again, it locks them first too, but
# this attempt writes none of them unchecked.
_ROWS_WANTED_KEY = "grove_rows_wanted"
# Session.info key (PostgreSQL): why this attempt must be run again (RunAgainWithLocks, or an
# abort as a deadlock or serialization failure), noted where it was raised, so that an app
# hook that catches the exception (``try: ... except Exception: pass``) cannot make the unit
# go on in an aborted transaction (a 500) or commit a row written unchecked.
_RUN_AGAIN_KEY = "grove_run_again"


class RunAgainWithLocks(Exception):
    """A unit of work (PostgreSQL) wrote a row it had not locked, and that row was locked by
    another transaction or changed since it was read (``server/unlocked_writes.py``).
    Nothing was stored; ``Database.run`` runs the unit again with the rows it held and wrote
    locked first."""


# PRAGMA synchronous of every SQLite connection this process opens. FULL, not NORMAL: in WAL
# mode NORMAL skips the fsync at each commit, so a power loss or an OS crash could take back
# the last commits after they were acknowledged (a process crash, kill -9 included, loses
# nothing either way). FULL costs one fsync per write transaction. The test suite sets OFF
# for its own processes (tests/conftest.py), as its PostgreSQL server runs with
# synchronous_commit=off: a test cannot lose power, and the fsyncs were about a fifth of the
# fast tests' time. Servers the tests start as processes keep FULL.
SQLITE_SYNCHRONOUS = "FULL"

# Group commit (SQLite files): at most this many units of work share one transaction.
GROUP_COMMIT_MAX_UNITS = 32

logger = logging.getLogger("grove.db")
T = TypeVar("T")


_PROGRESS_KEY = "grove.report_progress"
_PUBLISHED_KEY = "grove.published"
# In a session's ``info`` while :meth:`Database.between_units` lends it out with no lock held.
BETWEEN_UNITS_KEY = "grove.between_units"


class WriteBetweenUnits(RuntimeError):
    """A flush of a session that :meth:`Database.between_units` lent out with no write lock
    held: nothing is written until the session's next unit of work."""


@event.listens_for(Session, "before_flush")
def _no_flush_between_units(session: Session, *_args: Any) -> None:
    if session.info.get(BETWEEN_UNITS_KEY):
        raise WriteBetweenUnits(
            "nothing is written while no unit of work holds the locks (an async live "
            "method's changes are stored at its next yield)"
        )


# The unit of work the running code is in, for model code that has no row to ask
# (``Bid.filter()`` with no arguments in a custom_export, ``Bid.create(amount=1)``).
_current_unit: ContextVar[Session | None] = ContextVar("grove_current_unit", default=None)


def current_unit() -> Session | None:
    """The database session of the unit of work this code runs in, or None outside one."""
    return _current_unit.get()


@contextmanager
def in_unit(db: Session) -> Iterator[Session]:
    """Make ``db`` the current unit of work (``current_unit``) inside the block.

    The previous value is put back by value, not by token: a streamed answer's generator may
    end in another context than it began.
    """
    previous = _current_unit.get()
    _current_unit.set(db)
    try:
        yield db
    finally:
        _current_unit.set(previous)


_FLUSHED_KEY = "grove.flushed"


def _note_flush(session: Session, _flush_context: Any) -> None:
    session.info[_FLUSHED_KEY] = True


def flushed_in_read(db: Session) -> bool:
    """Whether code flushed changes in this read transaction (:meth:`Database.read`): a hook
    that set an attribute and then ran a query (SQLAlchemy's autoflush), or created a row
    (``ExtraModel.create`` flushes for its id). The session no longer lists them as new or
    dirty, and the read's rollback would drop them, so the caller must redo the work in a
    write unit of work."""
    return bool(db.info.get(_FLUSHED_KEY))


def report_progress(db: Session) -> None:
    """Say, from inside a long write unit of work (a session of thousands of participants),
    that it is still moving, between batches: on SQLite, writers queued behind it keep
    waiting instead of failing after the lock timeout as they would behind a stuck writer
    (WAITING AND FAILING). A no-op on PostgreSQL, whose waits are per row."""
    mark = db.info.get(_PROGRESS_KEY)
    if mark is not None:
        mark()


def note_published(db: Session, messages: list[commit_bell.Carried] | None = None) -> None:
    """Say that this unit of work stored push messages (``server.push``): once it commits
    to a SQLite file, :meth:`Database.transaction` rings the file's bell
    (``server.commit_bell``), so every process's push hub gets them at once. ``messages``:
    the rows stored (the ring carries them, and the hubs need not read them), None if not
    known. Messages stored in a savepoint that is then rolled back are forgotten
    (``_forget_rolled_back``)."""
    published: list[_Published] = db.info.setdefault(_PUBLISHED_KEY, [])
    published.append(_Published(db.get_nested_transaction(), messages))


@dataclass(frozen=True)
class _Published:
    """Push messages a unit of work stored: in which savepoint (None: outside any), and the
    rows (None: not known)."""

    savepoint: SessionTransaction | None
    messages: list[commit_bell.Carried] | None


def _inside(transaction: SessionTransaction | None, savepoint: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(db: Session, previous: SessionTransaction) -> None:
    """A savepoint rolled back: the messages stored inside it (or in savepoints inside it)
    are not in the database, and their ids will be given to other rows."""
    published: list[_Published] | None = db.info.get(_PUBLISHED_KEY)
    if previous.nested and published:
        published[:] = [entry for entry in published if not _inside(entry.savepoint, previous)]


def _published_messages(db: Session) -> tuple[bool, list[commit_bell.Carried] | None]:
    """Take what the unit of work ``db`` published (``note_published``): whether anything,
    and the rows stored in id order (None if some were not known)."""
    published: list[_Published] = db.info.pop(_PUBLISHED_KEY, None) or []
    messages: list[commit_bell.Carried] | None = []
    for entry in published:
        if entry.messages is None or messages is None:
            messages = None
        else:
            messages.extend(entry.messages)
    return bool(published), None if messages is None else sorted(messages)


def note_rows_held(db: Session, table: sa.Table, ids: Iterable[int]) -> None:
    """PostgreSQL: note that this unit of work holds a lock on (or writes) these rows of
    ``table``: a unit run again (``Database.run``) locks every row its last attempt noted
    before anything else, in LOCK ORDER, so it takes them in the documented order and reads
    them as the last committed unit left them."""
    db.info.setdefault(_ROWS_HELD_KEY, {}).setdefault(table, set()).update(ids)


def note_rows_wanted(db: Session, table: sa.Table, ids: Iterable[int]) -> None:
    """PostgreSQL: note that this unit of work writes these rows of ``table`` without
    holding their lock yet (``server/unlocked_writes.py``): if it is run again, it locks them
    first, as the rows it held (``note_rows_held``). Unlike those, they are still checked
    before each write of this attempt: one that could not lock them must not write them
    blind, waiting for their holder while it holds its own rows (a deadlock, or requests
    queued behind it on its group until the lock timeout)."""
    db.info.setdefault(_ROWS_WANTED_KEY, {}).setdefault(table, set()).update(ids)


def note_run_again(db: Session, reason: str) -> None:
    """PostgreSQL: note that this attempt of ``db``'s unit of work must be run again
    (``Database.run``) whatever the code that saw the exception did with it."""
    db.info.setdefault(_RUN_AGAIN_KEY, reason)


def run_again_noted(db: Session) -> str | None:
    """Why this attempt of ``db``'s unit of work must be run again (``note_run_again``), or
    None: an attempt so noted is rolled back whatever it does next."""
    reason: str | None = db.info.get(_RUN_AGAIN_KEY)
    return reason


def rows_held(db: Session) -> dict[sa.Table, set[int]]:
    """The rows ``note_rows_held`` noted in this unit of work, by table."""
    held: dict[sa.Table, set[int]] = db.info.get(_ROWS_HELD_KEY, {})
    return held


def _lock_order(table: sa.Table) -> tuple[int, str]:
    """Where ``table``'s rows come in LOCK ORDER (the session, subsessions, groups,
    participants), for a unit run again that locks its rows first."""
    name = table.name
    if name == "grove_session":
        return (1, name)
    if name.endswith("_subsession"):
        return (2, name)
    if name.endswith("_group"):
        return (3, name)
    if name == "grove_participant":
        return (4, name)
    return (5, name)


def _lock_rows_first(db: Session, rows: dict[sa.Table, set[int]]) -> None:
    """Lock ``rows`` in LOCK ORDER, each table's in ascending id (the session's FOR NO KEY
    UPDATE, as its UPDATE does; the others FOR UPDATE, as ``lock_ids_in_order``)."""
    for table in sorted(rows, key=_lock_order):
        ids = sorted(rows[table])
        db.execute(row_lock_statement(table, table.name == "grove_session"), {"ids": ids}).all()
    db.info[_ROWS_HELD_KEY] = {table: set(ids) for table, ids in rows.items()}


def lock_ids_in_order(db: Session, model: Any, ids: Iterable[int]) -> None:
    """Row-lock these rows of ``model`` in ascending id (LOCK ORDER step 3 and below).

    On SQLite the write transaction already holds the database's write lock (``BEGIN
    IMMEDIATE``), which locks every row: no statement is sent (SQLAlchemy would leave ``FOR
    UPDATE`` out, and the SELECT cost a statement in every wait page arrival and live message).
    """
    if db.get_bind().dialect.name == "sqlite":
        return
    wanted = sorted(set(ids))
    if wanted:
        table = model.__table__
        db.execute(row_lock_statement(table), {"ids": wanted}).all()
        note_rows_held(db, table, wanted)


@functools.lru_cache(maxsize=1024)
def row_lock_statement(
    table: sa.Table, key_share: bool = False, nowait: bool = False
) -> sa.Select[Any]:
    """``SELECT id ... WHERE id IN :ids ORDER BY id FOR UPDATE`` for ``table``, built once per
    table: building it and working out its cache key anew was about a tenth of a page
    submission's CPU time on PostgreSQL (every submission locks its group). With
    ``key_share``, FOR NO KEY UPDATE: the lock an UPDATE of the row's other columns takes,
    which leaves inserting rows that refer to it free. With ``nowait``, NOWAIT: a row another
    transaction holds fails the statement at once (``server/unlocked_writes.py``)."""
    ids: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
    query = sa.select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id)
    return query.with_for_update(key_share=key_share, nowait=nowait)


def dialect_insert(db: Session, model: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for ``model`` that can say ``ON CONFLICT`` on this database (PostgreSQL or
    SQLite): two first writers of one unique row make one row, not a server error."""
    return insert_for_dialect(db.get_bind().dialect.name, model)


def insert_for_dialect(dialect_name: str, model: Any) -> postgresql.Insert | sqlite.Insert:
    """``dialect_insert`` for the dialect named ``dialect_name`` (a model or a Table)."""
    if dialect_name == "postgresql":
        # Imported here: the dialect's module is loaded with a PostgreSQL engine only, and a
        # command on SQLite (the bots' scratch database) need not import it (~60 ms).
        from sqlalchemy.dialects.postgresql import insert

        return insert(model)
    return sqlite.insert(model)


def _plain_savepoints(dialect: sa.Dialect) -> None:
    """Let ``dialect`` send SAVEPOINT, RELEASE and ROLLBACK TO as plain text.

    SQLAlchemy compiles a new clause object for each (it has no cache key), which was about
    8% of a participant_vars post's CPU in process: every unit of work queued in a group
    commit runs in a savepoint. The names are SQLAlchemy's own (``sa_savepoint_<n>``), which
    need no quoting, and the statements still pass through the engine's events.
    """

    def savepoint(connection: sa.Connection, name: str) -> None:
        connection.exec_driver_sql(f"SAVEPOINT {name}")

    def release(connection: sa.Connection, name: str) -> None:
        connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")

    def rollback_to(connection: sa.Connection, name: str) -> None:
        connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")

    vars(dialect).update(
        do_savepoint=savepoint,
        do_release_savepoint=release,
        do_rollback_to_savepoint=rollback_to,
    )


def _retryable(error: BaseException) -> str | None:
    """The reason a database error may be retried (a deadlock, a serialization failure)."""
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return RETRYABLE_SQLSTATES.get(str(sqlstate)) if sqlstate else None


def _note_retryable_abort(context: sa.engine.ExceptionContext) -> None:
    """PostgreSQL's ``handle_error``: a statement of a unit of work aborted as a deadlock or a
    serialization failure marks the unit to be run again (``note_run_again``), even if app
    code catches the error and goes on (its next statement would fail the transaction)."""
    db = current_unit()
    if db is None:
        return
    sqlstate = getattr(context.original_exception, "sqlstate", None)
    reason = RETRYABLE_SQLSTATES.get(str(sqlstate)) if sqlstate else None
    if reason is not None:
        note_run_again(db, reason)


def normalise_database_url(url: str) -> str:
    """Accept Heroku-style ``postgres://`` URLs and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# ``sqlite_begin`` of reads that begin no transaction: each statement reads on its own.
_SQLITE_NO_BEGIN = "NONE"


def _configure_sqlite(
    engine: sa.Engine,
    busy_timeout_ms: int,
    identity: FileIdentity | None,
    checkpointer: WalCheckpointer | None,
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {SQLITE_SYNCHRONOUS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if checkpointer is not None:
            # Checkpoints off the write lock, in their own thread (server/sqlite_checkpoints.py).
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
            checkpointer.start()
        cursor.close()
        if identity is not None:
            identity.record()

    if checkpointer is not None:

        @event.listens_for(engine, "commit")
        def _on_commit(_connection: Any) -> None:
            checkpointer.note_commit()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode == "DEFERRED":
            # A read's BEGIN takes no lock and cannot be busy: sent on the driver's connection,
            # without SQLAlchemy's statement machinery (a twentieth of a page GET's CPU). A
            # failure is sent again the usual way, which raises it as a DBAPIError.
            try:
                connection.connection.dbapi_connection.execute("BEGIN DEFERRED")  # type: ignore[union-attr]
                return
            except sqlite3.Error:
                pass
        if mode != _SQLITE_NO_BEGIN:
            connection.exec_driver_sql(f"BEGIN {mode}")


_SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked")
_SQLITE_UNAVAILABLE_MESSAGES = (
    "readonly database",
    "disk i/o error",
    "database or disk is full",
    "unable to open database file",
    "database disk image is malformed",
    "file is not a database",
)
_POSTGRES_BUSY_SQLSTATES = {"55P03"}  # lock_not_available: lock_timeout ran out
# Connection exceptions, insufficient resources (disk full), operator intervention (shutdown,
# crash recovery), a read-only transaction (a standby), system errors.
_POSTGRES_UNAVAILABLE_PREFIXES = ("08", "53", "57P", "25006", "58")


def _failure_kind(error: sa.exc.DBAPIError, is_sqlite: bool) -> str | None:
    """``"busy"``, ``"unavailable"`` or None (a failure of the unit of work itself)."""
    if is_sqlite:
        if not isinstance(error, sa.exc.OperationalError):
            return None
        text = str(error.orig).lower()
        if any(message in text for message in _SQLITE_BUSY_MESSAGES):
            return "busy"
        if any(message in text for message in _SQLITE_UNAVAILABLE_MESSAGES):
            return "unavailable"
        return None
    original = error.orig
    sqlstate = str(getattr(original, "sqlstate", None) or "")
    if sqlstate in _POSTGRES_BUSY_SQLSTATES:
        return "busy"
    if sqlstate.startswith(_POSTGRES_UNAVAILABLE_PREFIXES):
        return "unavailable"
    if not sqlstate and (
        error.connection_invalidated or isinstance(error, sa.exc.OperationalError)
    ):
        return "unavailable"  # no answer from the server at all (refused, reset, gone)
    return None


def _closed_by_server(dbapi_connection: Any) -> bool:
    """Whether an idle psycopg connection was closed by the server: its socket has something
    to read (the server's last message, or end of file), where an idle one has nothing.
    No round trip: one ``poll`` with no timeout (not ``select``, which refuses a file number
    of 1024 or more: a worker with many sockets open has such numbers)."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
        return bool(poller.poll(0))  # readable, hung up or in error
    except Exception:  # no socket any more (closed, broken): as good as closed
        return True


# A pooled connection idle for longer than this is pinged (one round trip) before use: a
# firewall, NAT or load balancer that forgets idle flows drops a connection without a word,
# which _closed_by_server cannot see, and a read (which is not run again) would fail on it.
# A busy worker reuses its connections within this time (the pool hands out the most
# recently returned first), so its requests pay no ping.
IDLE_PING_SECONDS = 30.0
_IDLE_SINCE = "grove_idle_since"


# SQLSTATEs of a server that ends the connection: the server shut down or restarted, the
# backend was terminated (pg_terminate_backend, idle_session_timeout), connection exceptions.
_POSTGRES_DISCONNECT_SQLSTATES = ("57P01", "57P02", "57P05", "08")


def _detect_disconnects(engine: sa.Engine) -> None:
    """Lost connections found and replaced without a round trip (LOST CONNECTIONS)."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: sa.engine.ExceptionContext) -> None:
        # SQLAlchemy's psycopg dialect counts only a connection psycopg has marked closed
        # or broken; a server's goodbye read as an error ("terminating connection due to
        # administrator command") is one too. Marked so, the connection is invalidated, and
        # with it every connection of the pool older than it.
        sqlstate = str(getattr(context.original_exception, "sqlstate", None) or "")
        if sqlstate.startswith(_POSTGRES_DISCONNECT_SQLSTATES):
            context.is_disconnect = True

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    # Replaces a connection the server closed while it sat in the pool, or one idle so long
    # that something between may have dropped it and a ping finds it gone.
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # The pool invalidates a connection refused here and checks out a fresh one instead.
        if _closed_by_server(dbapi_connection):
            raise sa.exc.DisconnectionError("the server closed this pooled connection")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since > IDLE_PING_SECONDS:
            try:
                alive = engine.dialect.do_ping(dbapi_connection)
            except Exception as error:
                raise sa.exc.DisconnectionError("an idle pooled connection was lost") from error
            if not alive:
                raise sa.exc.DisconnectionError("an idle pooled connection was lost")


class _LostBeforeCommit(Exception):
    """A unit of work's connection was lost before its COMMIT was sent (``Database.run``
    runs it again once); ``__cause__`` is the driver's error."""


def _is_memory_database(url: str | sa.URL) -> bool:
    """An in-memory SQLite database, or one given as a ``file:`` URI: no plain file path."""
    database = sa.make_url(url).database
    return not database or database == ":memory:" or database.startswith("file:")


class _Ticket:
    """One unit of work waiting to run in a group commit's transaction.

    ``work`` (with the ``context`` of the thread that queued it): a unit of work the batch's
    leader runs itself, in its own thread, when the unit's turn comes (``Database.run``);
    the queued thread then sleeps until the batch is settled (or the unit failed), one
    wake-up instead of three. None: the queued thread runs its unit itself when told
    (``Database.transaction``, whose block is the caller's)."""

    def __init__(self) -> None:
        self.turn = threading.Event()
        self.finished = threading.Event()
        self.granted = False  # picked for a batch (or to lead the next): no withdrawing
        self.leads = False
        self.batch: _Batch | None = None
        self.work: Callable[[Session], Any] | None = None
        self.context: contextvars.Context | None = None
        self.result: Any = None
        self.error: BaseException | None = None


class _Batch:
    """Units of work of one process in one SQLite transaction (GROUP COMMIT in the module's
    docstring): one connection, each unit in its own savepoint, one COMMIT for them all."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.units = 0
        self.committed = threading.Event()
        # Units the leader ran for their threads (``_Ticket.work``) that succeeded: woken
        # once the batch is settled.
        self.run_for_others: list[_Ticket] = []
        self.failure: DatabaseUnavailable | None = None
        self.published = False  # a unit that succeeded stored push messages
        # Their rows, for the commit bell to carry (None: some were not known).
        self.messages: list[commit_bell.Carried] | None = []

    def note_published(self, db: Session) -> None:
        """After a unit of work of the batch succeeded in ``db``: if it stored push messages,
        the batch rings the commit bell once its COMMIT is done, carrying them."""
        published, messages = _published_messages(db)
        if not published:
            return
        self.published = True
        if messages is None or self.messages is None:
            self.messages = None
        else:
            self.messages.extend(messages)

    def in_transaction(self) -> bool:
        """Whether the connection is still in the batch's transaction (SQLite ends it by
        itself on some errors, a full disk among them: nothing more may run on it then)."""
        dbapi_connection = self.connection.connection.dbapi_connection
        return bool(getattr(dbapi_connection, "in_transaction", False))


class _KeptReader:
    """One thread's kept read connection; closed when the thread ends (its thread-local
    storage goes, and this with it) or by ``_KeptReaders.close_all``."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.busy = False

    def usable(self) -> bool:
        """Whether the next read may run on it: open, valid and outside any transaction."""
        connection = self.connection
        return not (connection.closed or connection.invalidated or connection.in_transaction())

    def close(self) -> None:
        """Close the connection (nothing raised: it may be closed already)."""
        with contextlib.suppress(Exception):
            self.connection.close()

    def __del__(self) -> None:
        self.close()


class _KeptReaders:
    """Each thread's own connection for its reads of a SQLite file (:meth:`Database.read`),
    kept open between them rather than taken from the pool and given back at each read: the
    read's session is bound to it and begins and ends its transaction (BEGIN DEFERRED, then
    ROLLBACK) on it, as on a pooled one. Taking a pooled connection and giving it back
    (checkout, a Connection object, the pool's own ROLLBACK on return) was about half of a
    read's fixed cost, a twentieth of a page GET's CPU.

    The driver connections come from a pool of their own (``pool_engine``, opened as the
    database's, PRAGMAs included): a thread holds its connection between its reads, so it must
    not be one of those writers wait for. Each is used through a Connection of the database's
    reader engine (``engine``), whose events (BEGIN DEFERRED, statement listeners) it gets.

    A read inside a read on the same thread (or a coroutine's read while another coroutine's
    is open on the event loop's thread) finds the kept connection in use and reads on a pooled
    one, as before; so does a read whose kept connection cannot be opened (the pooled one then
    raises as before). A connection left closed, invalidated or in a transaction by a failure
    is closed and replaced at the thread's next read. Idle, a kept connection holds no lock
    and no snapshot (WAL checkpoints are not held back), and its thread's end closes it.
    """

    def __init__(self, engine: sa.Engine, pool_engine: sa.Engine) -> None:
        self.engine = engine
        self.pool_engine = pool_engine
        self._local = threading.local()
        self._all: weakref.WeakSet[_KeptReader] = weakref.WeakSet()
        self._all_lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[sa.Connection | None]:
        """This thread's kept connection for the block, opened at its first read; None when
        it is in use or cannot be opened (the caller reads on a pooled connection)."""
        kept: _KeptReader | None = getattr(self._local, "kept", None)
        if kept is not None and kept.busy:
            yield None
            return
        if kept is None or not kept.usable():
            if kept is not None:
                kept.close()
                self._local.kept = None
            try:
                driver_connection = self.pool_engine.raw_connection()
            except sqlite3.Error:
                yield None
                return
            kept = _KeptReader(sa.Connection(self.engine, driver_connection))
            self._local.kept = kept
            with self._all_lock:
                self._all.add(kept)
        kept.busy = True
        try:
            yield kept.connection
        finally:
            kept.busy = False

    def close_all(self) -> None:
        """Close every thread's kept connection (``Database.dispose``); a thread that reads
        again opens a new one."""
        with self._all_lock:
            kept = list(self._all)
        for reader in kept:
            reader.close()
        self.pool_engine.dispose()


class Database:
    """One engine and the two ways to open a unit of work on it."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        info: dict[str, Any] | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    ) -> None:
        """Open (lazily) the database at ``url``; ``lock_timeout`` in seconds (> 0).

        Raises ConfigurationError for a SQLite file whose folder is missing or unwritable.
        """
        self.url = normalise_database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.lock_timeout = lock_timeout
        lock_timeout_ms = max(1, round(lock_timeout * 1000))
        self.sqlite_path: Path | None = None
        if self.is_sqlite and not _is_memory_database(self.url):
            self.sqlite_path = Path(str(sa.make_url(self.url).database)).resolve()
            check_location(self.sqlite_path)
        kwargs: dict[str, Any] = {"echo": echo}
        # Pools as large as the threads that use them (Starlette's thread pool has 40): a
        # connection opened past the pool size is closed again after one request, and
        # opening one (PRAGMAs on SQLite, a login on PostgreSQL) cost more than the request.
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": lock_timeout}
            if self.sqlite_path is not None:
                kwargs.update(poolclass=sa.pool.QueuePool, pool_size=40, max_overflow=10)
        else:
            # No pool_pre_ping: a lost connection is found without a round trip (LOST
            # CONNECTIONS in the module's docstring).
            # 40 connections for Starlette's 40 request threads, and one more for the push
            # hub's reader thread (server/push_hub.py), which is not one of them.
            kwargs.update(pool_size=20, max_overflow=21, pool_use_lifo=True)
            # A row lock held longer than this by another transaction fails the waiter
            # (SQLSTATE 55P03), which becomes DatabaseBusy: no request hangs on a stuck one.
            kwargs["connect_args"] = {"options": f"-c lock_timeout={lock_timeout_ms}"}
        self.engine = sa.create_engine(self.url, **kwargs)
        _plain_savepoints(self.engine.dialect)
        self._file_identity = FileIdentity(self.sqlite_path) if self.sqlite_path else None
        self._checkpointer = (
            WalCheckpointer(self.sqlite_path, lock_timeout_ms) if self.sqlite_path else None
        )
        if self.is_sqlite:
            _configure_sqlite(self.engine, lock_timeout_ms, self._file_identity, self._checkpointer)
        else:
            _detect_disconnects(self.engine)
            sa.event.listen(self.engine, "handle_error", _note_retryable_abort)
        self._sqlite_write_lock = threading.Lock()
        # Bumped when a unit of work lets go of the thread lock or reports progress: waiters
        # compare it to tell a moving queue from a stuck writer.
        self._sqlite_progress = 0
        self._sqlite_process_lock = (
            ProcessWriteLock(self.sqlite_path.with_name(self.sqlite_path.name + ".writelock"))
            if self.sqlite_path is not None
            else None
        )
        self._last_logged: dict[str, float] = {}
        # ``info`` reaches model code through ``object_session(obj).info`` (e.g. the project).
        self.info: dict[str, Any] = info if info is not None else {}
        self.info[_PROGRESS_KEY] = self._mark_progress  # for report_progress(session)
        self._writer = sessionmaker(self.engine, expire_on_commit=False, info=self.info)
        # Group commit: writers of this process queue here; one leads each batch.
        self.group_commit = self.sqlite_path is not None
        self._batch_lock = threading.Lock()
        self._pending: deque[_Ticket] = deque()
        self._leading = False
        self._in_batch = sessionmaker(
            expire_on_commit=False, info=self.info, join_transaction_mode="create_savepoint"
        )
        self._as_leader = sessionmaker(
            expire_on_commit=False, info=self.info, join_transaction_mode="rollback_only"
        )
        self.batches_committed = 0
        self.units_in_batches = 0
        reader_engine = (
            self.engine.execution_options(sqlite_begin="DEFERRED")
            if self.is_sqlite
            else self.engine
        )
        # Between units of work each statement reads in a transaction of its own, so that
        # none stays open while an async live method's step awaits (for seconds): on
        # PostgreSQL no session idles in transaction, on SQLite no reader keeps an old
        # snapshot (which keeps the write-ahead log from starting over).
        # On a pool of their own: a step that read and then awaits keeps its connection
        # meanwhile (as long as a model takes to answer), and many such steps must not use
        # up the connections every other request needs.
        between_units_engine = self.engine
        if self.sqlite_path is not None or not self.is_sqlite:
            if self.is_sqlite:
                kwargs.update(pool_size=10, max_overflow=90)
            else:
                kwargs.update(pool_size=5, max_overflow=35)
            between_units_engine = sa.create_engine(self.url, **kwargs)
            if self.is_sqlite:
                _configure_sqlite(
                    between_units_engine, lock_timeout_ms, self._file_identity, self._checkpointer
                )
            else:
                _detect_disconnects(between_units_engine)
        self._between_units_pool = between_units_engine
        self._between_units_engine = (
            between_units_engine.execution_options(sqlite_begin=_SQLITE_NO_BEGIN)
            if self.is_sqlite
            else between_units_engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._reader = sessionmaker(reader_engine, expire_on_commit=False, info=self.info)
        sa.event.listen(self._reader, "after_flush", _note_flush)
        # A SQLite file's reads each on their thread's kept connection (_KeptReaders).
        self._kept_readers: _KeptReaders | None = None
        if self.sqlite_path is not None:
            kept_engine = sa.create_engine(
                self.url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": lock_timeout},
                poolclass=sa.pool.NullPool,
            )
            _configure_sqlite(kept_engine, lock_timeout_ms, self._file_identity, self._checkpointer)
            self._kept_readers = _KeptReaders(reader_engine, kept_engine)

    def writer_session(self) -> Session:
        """A session for several units of work in a row that keep the same objects (an async
        live method runs one per step): pass it to :meth:`run` or :meth:`transaction` each
        time, and close it after the last."""
        return self._writer()

    @contextmanager
    def between_units(self, session: Session) -> Iterator[None]:
        """Use ``session`` (a :meth:`writer_session` between two of its units of work) with
        no write lock held or waited for: what its objects load meanwhile is read as
        :meth:`read` reads, but each statement in a transaction of its own (none stays open
        while the caller awaits something else), nothing is flushed (an explicit flush raises
        WriteBetweenUnits), and on leaving, whatever it read is ended with a rollback, which
        drops the objects' unflushed changes and expires them (so they are read afresh).
        What the caller wants written it takes before leaving and sets again in the next
        unit of work (an async live method's steps: ``server.live_pages``)."""
        writer_bind, autoflush = session.bind, session.autoflush
        session.bind, session.autoflush = self._between_units_engine, False
        session.info[BETWEEN_UNITS_KEY] = True
        try:
            with self._failures_translated():
                yield
        finally:
            session.info.pop(BETWEEN_UNITS_KEY, None)
            try:
                session.rollback()
            finally:
                session.bind, session.autoflush = writer_bind, autoflush

    def _unit_session(self, session: Session | None) -> AbstractContextManager[Session]:
        return self._writer() if session is None else nullcontext(session)

    @contextmanager
    def transaction(self, session: Session | None = None) -> Iterator[Session]:
        """A write transaction: commit on success, roll back everything on any exception.

        ``session``: run it in this session (from :meth:`writer_session`), else in a new one.
        Raises DatabaseBusy when a write lock is not free within ``lock_timeout`` seconds, and
        DatabaseUnavailable when the database cannot store the work (see the module's
        WAITING AND FAILING); either way nothing was committed.
        """
        with self._failures_translated():
            if not self.is_sqlite:
                with self._unit_session(session) as db, db.begin(), in_unit(db):
                    yield db
                return
            if session is None and self.group_commit:
                with self._batched_unit() as db:  # the batch rings the bell, once
                    yield db
                return
            with self._sqlite_write_locks():
                if self._file_identity is not None:
                    self._file_identity.check()
                with self._unit_session(session) as db, db.begin(), in_unit(db):
                    db.info.pop(_PUBLISHED_KEY, None)  # a reused session's earlier unit's
                    yield db
                if self._file_identity is not None:
                    # Committed, but perhaps into a file deleted meanwhile: not acknowledged.
                    self._file_identity.check()
            self._ring_if_published(db)

    def _ring_if_published(self, db: Session) -> None:
        """After a SQLite commit: ring the file's bell if the unit of work published."""
        published, messages = _published_messages(db)
        if published and self.sqlite_path is not None:
            commit_bell.ring(self.sqlite_path, messages)

    @contextmanager
    def _batched_unit(self) -> Iterator[Session]:
        """A unit of work in a group commit (GROUP COMMIT): the first writer that finds no
        batch running leads one; writers that come meanwhile queue and run in it, or lead
        the next."""
        ticket = _Ticket()
        self._join_batch(ticket)
        if ticket.leads:
            with self._lead_batch() as db:
                yield db
            return
        batch = ticket.batch
        assert batch is not None
        try:
            with self._savepoint_unit(batch) as db:
                yield db
        finally:
            ticket.finished.set()
        batch.committed.wait()
        if batch.failure is not None:
            raise self._batch_failure(batch)

    def _join_batch(self, ticket: _Ticket) -> None:
        """Lead a batch with ``ticket`` if none is running (``ticket.leads``), else queue it
        and wait for its turn (WAITING AND FAILING), leaving the queue on any failure."""
        with self._batch_lock:
            if self._leading:
                self._pending.append(ticket)
            else:
                self._leading = ticket.granted = ticket.leads = True
        if not ticket.leads:
            try:
                self._wait_for_turn(ticket)
            except BaseException:
                self._leave_queue(ticket)
                raise

    def _run_batched(self, unit_of_work: Callable[[Session], T]) -> T:
        """``run`` in a group commit (GROUP COMMIT): as ``_batched_unit``, but a queued unit
        is run by the batch's leader (``_Ticket.work``), so this thread waits for one
        wake-up, not for its turn, the end of its unit and the COMMIT."""
        ticket = _Ticket()
        ticket.work, ticket.context = unit_of_work, contextvars.copy_context()
        self._join_batch(ticket)
        if ticket.leads:
            with self._lead_batch() as db:  # the batch rings the bell, once
                return unit_of_work(db)
        if ticket.error is not None:
            raise ticket.error
        batch = ticket.batch
        assert batch is not None
        if batch.failure is not None:
            raise self._batch_failure(batch)
        result: T = ticket.result
        return result

    def _wait_for_turn(self, ticket: _Ticket) -> None:
        """Wait until a batch runs ``ticket``'s unit or it leads one; DatabaseBusy (and out
        of the queue) when no write of this process finished for ``lock_timeout``."""
        seen = self._sqlite_progress
        while not ticket.turn.wait(self.lock_timeout):
            with self._batch_lock:
                if not ticket.granted and self._sqlite_progress == seen:
                    self._pending.remove(ticket)
                    raise self._busy()
            seen = self._sqlite_progress

    def _leave_queue(self, ticket: _Ticket) -> None:
        """A queued writer gives up without running (DatabaseBusy, or an exception such as
        KeyboardInterrupt while it waited): out of the queue, or, when it was picked
        meanwhile, its turn passed on, so no batch waits for it. (A unit the leader runs
        itself, ``_Ticket.work``, picked before the exception, still runs: its thread
        reports the exception, not the unit's outcome, as when a client hangs up.)"""
        with self._batch_lock:
            if not ticket.granted:
                if ticket in self._pending:
                    self._pending.remove(ticket)
                return
        if ticket.leads:
            self._hand_over()
        else:
            ticket.finished.set()

    @contextmanager
    def _lead_batch(self) -> Iterator[Session]:
        """Take the write locks and begin the batch's transaction; run the leader's unit,
        then the queued ones, each in its turn; commit; tell them all; hand over."""
        own_error: BaseException | None = None
        batch: _Batch | None = None
        settled = False
        try:
            with self._sqlite_write_locks():
                if self._file_identity is not None:
                    self._file_identity.check()
                with self.engine.connect() as connection:
                    connection.begin()
                    batch = _Batch(connection)
                    try:
                        with self._leader_unit(batch) as db:
                            yield db
                    except BaseException as error:  # raised after the batch is settled
                        own_error = error
                        if not connection.in_transaction():
                            # The leader's unit rolled back the batch's transaction, which
                            # held its writes alone: the queued units run in a new one.
                            connection.begin()
                    self._run_queued(batch)
                    self._commit_batch(batch)
                    settled = True
        finally:
            if batch is not None and not settled and batch.failure is None:
                # Broken off before its COMMIT was tried (an error between units): the
                # connection's close rolls it back, so no unit of it may be acknowledged.
                batch.failure = DatabaseUnavailable(
                    "The transaction this request shared with others was not committed. "
                    "Nothing of it was saved; try again."
                )
            self._hand_over()
            if batch is not None:
                if batch.published and batch.failure is None and self.sqlite_path is not None:
                    # One ring for the batch, before any unit of it is acknowledged.
                    commit_bell.ring(self.sqlite_path, batch.messages)
                batch.committed.set()
                for ticket in batch.run_for_others:
                    ticket.turn.set()
        if own_error is not None:
            raise own_error
        if batch is not None and batch.failure is not None:
            raise self._batch_failure(batch)

    @contextmanager
    def _leader_unit(self, batch: _Batch) -> Iterator[Session]:
        """The first unit of work of ``batch``: its own session in the batch's transaction,
        no savepoint (nothing else is in the transaction yet). On success its session flushes
        and leaves the transaction open for the queued units and the COMMIT; on any exception
        it rolls the whole transaction back (its writes alone). A unit that stored push
        messages marks the batch to ring the commit bell, as a queued unit does."""
        batch.units += 1
        with self._as_leader(bind=batch.connection) as db:
            with db.begin(), in_unit(db):
                yield db
            batch.note_published(db)

    @contextmanager
    def _savepoint_unit(self, batch: _Batch) -> Iterator[Session]:
        """One unit of work of ``batch``: its own session in its own savepoint, released on
        success, rolled back (that unit alone) on any exception."""
        batch.units += 1
        with self._in_batch(bind=batch.connection) as db:
            with db.begin(), in_unit(db):
                yield db
            batch.note_published(db)

    def _run_queued(self, batch: _Batch) -> None:
        """Give each queued unit its turn in ``batch``, one at a time, while the batch's
        transaction lasts and it holds fewer than GROUP_COMMIT_MAX_UNITS."""
        while batch.in_transaction():
            with self._batch_lock:
                if not self._pending or batch.units >= GROUP_COMMIT_MAX_UNITS:
                    return
                ticket = self._pending.popleft()
                ticket.granted = True
                ticket.batch = batch
            if ticket.work is not None:
                self._run_for(ticket, batch)
            else:
                ticket.turn.set()
                ticket.finished.wait()
            self._mark_progress()  # a write finished: the queues here and in other workers move

    def _run_for(self, ticket: _Ticket, batch: _Batch) -> None:
        """Run a queued ``ticket.work`` in ``batch``, in this (the leader's) thread and the
        queued thread's context, as ``_savepoint_unit``; keep what it returned or raised. A
        unit that failed is told at once (as one run in its own thread returns its error
        before the COMMIT); one that succeeded, once the batch is settled."""
        assert ticket.work is not None
        assert ticket.context is not None
        work = ticket.work

        def unit() -> None:
            with self._savepoint_unit(batch) as db:
                ticket.result = work(db)

        try:
            ticket.context.run(unit)
        except BaseException as error:  # the queued thread's to raise, not the leader's
            ticket.error = error
            ticket.turn.set()
        else:
            batch.run_for_others.append(ticket)

    def _commit_batch(self, batch: _Batch) -> None:
        """COMMIT the batch (one fsync) into the file the server started with; otherwise
        ``batch.failure``, and no unit of it is acknowledged."""
        try:
            if not batch.in_transaction():
                raise DatabaseUnavailable(
                    "The database ended a transaction by itself after an error. Nothing of "
                    "this request was saved; try again."
                )
            batch.connection.commit()
            if self._file_identity is not None:
                self._file_identity.check()
        except sa.exc.DBAPIError as error:
            translated = self._translated(error)
            batch.failure = (
                translated
                if isinstance(translated, DatabaseUnavailable)
                else DatabaseUnavailable(f"The database could not commit this ({error.orig}).")
            )
        except DatabaseUnavailable as error:
            batch.failure = error
        else:
            self.batches_committed += 1
            self.units_in_batches += batch.units

    def _hand_over(self) -> None:
        """Let the first queued writer lead the next batch, or end the leading."""
        with self._batch_lock:
            if not self._pending:
                self._leading = False
                return
            ticket = self._pending.popleft()
            ticket.granted = ticket.leads = True
        ticket.turn.set()

    @staticmethod
    def _batch_failure(batch: _Batch) -> DatabaseUnavailable:
        """The batch's failure as a new exception for one of its units."""
        assert batch.failure is not None
        failure = DatabaseUnavailable(str(batch.failure))
        failure.__cause__ = batch.failure
        return failure

    @contextmanager
    def _sqlite_write_locks(self) -> Iterator[None]:
        """Grove's own write locks, each waited for until one deadline.

        Threads of one process queue on a thread lock instead of in SQLite's busy handler,
        which polls with sleeps of up to 100 ms; across processes an advisory file lock does
        the same job. Correctness never rests on them: BEGIN IMMEDIATE still serializes
        writers (another program's included, for up to ``busy_timeout``).
        """
        if not self._acquire_thread_lock():
            raise self._busy()
        try:
            process_lock = self._sqlite_process_lock
            if process_lock is not None and not process_lock.acquire(self.lock_timeout):
                raise self._busy()
            try:
                yield
            finally:
                if process_lock is not None:
                    process_lock.release()
        finally:
            self._sqlite_progress += 1  # still under the thread lock
            self._sqlite_write_lock.release()

    def _mark_progress(self) -> None:
        """Tell writers waiting for the lock that its holder is moving (report_progress)."""
        if self.is_sqlite:
            self._sqlite_progress += 1
            if self._sqlite_process_lock is not None:
                self._sqlite_process_lock.mark_progress()

    def _acquire_thread_lock(self) -> bool:
        """This process's write lock, waited for while other threads' writes keep finishing.

        A burst of writers queues here (200 urn draws at once); that is not a stuck writer, so
        the timeout counts from the last write that finished, not from the start of the wait.
        """
        seen = self._sqlite_progress
        while not self._sqlite_write_lock.acquire(timeout=self.lock_timeout):
            if self._sqlite_progress == seen:
                return False
            seen = self._sqlite_progress
        return True

    def _busy(self) -> DatabaseBusy:
        what = "its write lock" if self.is_sqlite else "a row this request needs"
        return DatabaseBusy(
            f"The database is busy: another writer held {what} for more than "
            f"{self.lock_timeout:g} s. Nothing was saved; try again.",
            retry_after_seconds=max(1, math.ceil(self.lock_timeout)),
        )

    def _translated(self, error: sa.exc.DBAPIError) -> Exception:
        """The domain error for a database failure that is not the unit of work's fault, or
        ``error`` itself. A retryable PostgreSQL abort stays as it is, for ``run``."""
        if _retryable(error):
            return error
        kind = _failure_kind(error, self.is_sqlite)
        if kind == "busy":
            busy = self._busy()
            self._log(busy)
            return busy
        if kind is None:
            return error
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        if self.sqlite_path is not None:
            message = (
                f"The SQLite database {self.sqlite_path} cannot store this ({reason}). Nothing "
                "was saved. Check the free disk space and that the file and its folder are "
                "writable."
            )
        else:
            message = f"The database cannot store this ({reason}). Nothing was saved."
        unavailable = DatabaseUnavailable(message)
        self._log(unavailable)
        return unavailable

    def _log(self, error: DatabaseUnavailable, every_seconds: float = 10.0) -> None:
        """Log a database failure, each distinct message at most once every few seconds."""
        text = str(error)
        now = time.monotonic()
        last = self._last_logged.get(text)
        if last is None or now - last >= every_seconds:
            self._last_logged[text] = now
            level = logging.WARNING if isinstance(error, DatabaseBusy) else logging.ERROR
            logger.log(level, "%s", text)

    def run(self, unit_of_work: Callable[[Session], T], session: Session | None = None) -> T:
        """Run ``unit_of_work(db)`` in one write transaction and return what it returns
        (in ``session`` if given, as :meth:`transaction`).

        Committed on return, rolled back on any exception. On PostgreSQL a transaction aborted
        as a deadlock or serialization failure, or because it wrote a row it had not locked
        that another transaction held or had changed since it was read (RunAgainWithLocks,
        or StaleDataError from the session's ``row_version``), is run again from the start
        (at most UNIT_OF_WORK_ATTEMPTS times, after a short random pause), first locking
        every row its last attempt held or wrote (``note_rows_held``), in LOCK ORDER, so that
        it reads them as the last committed unit left them: nothing of it was committed or
        acknowledged, so the caller sees one unit of work either way. Such a failure is
        noted in the unit's session where it is raised (``note_run_again``), so a unit whose
        own code caught it (an app hook's ``try: ... except Exception``) is run again too,
        not committed or failed by its next statement. So is, once, a unit
        of work whose connection was lost before its COMMIT was sent (LOST CONNECTIONS).
        """
        if session is None and self.group_commit:
            with self._failures_translated():
                return self._run_batched(unit_of_work)
        reconnected = self.is_sqlite  # SQLite has no connection to lose
        attempt = 1
        lock_first: dict[sa.Table, set[int]] = {}
        while True:
            attempt_db: Session | None = None
            try:
                with self.transaction(session) as db:
                    attempt_db = db
                    db.info.pop(_ROWS_HELD_KEY, None)
                    db.info.pop(_ROWS_WANTED_KEY, None)
                    db.info.pop(_RUN_AGAIN_KEY, None)
                    if lock_first:
                        _lock_rows_first(db, lock_first)
                    try:
                        result = unit_of_work(db)
                    except sa.exc.DBAPIError as error:
                        if error.connection_invalidated and not reconnected:
                            # Raised by the unit's own statements: no COMMIT was sent.
                            raise _LostBeforeCommit() from error
                        raise
                    swallowed = db.info.get(_RUN_AGAIN_KEY)
                    if swallowed is not None:  # caught by the unit's code: not committed
                        raise RunAgainWithLocks(swallowed)
                    return result
            except _LostBeforeCommit as lost:
                reconnected = True  # at most once, so not counted as an attempt
                logger.warning(
                    "database connection lost (%s); unit of work run again", lost.__cause__
                )
            except Exception as error:
                reason: str | None = None
                if isinstance(error, sa.exc.DBAPIError):
                    reason = _retryable(error)
                elif isinstance(error, StaleDataError | RunAgainWithLocks):
                    reason = f"a row it wrote was locked or changed meanwhile: {error}"
                if reason is None and attempt_db is not None:
                    # A failure that follows one the unit's code caught: InFailedSqlTransaction
                    # after a swallowed deadlock or RunAgainWithLocks, or SQLAlchemy's "Can't
                    # operate on closed transaction" after a flush aborted as a deadlock, or
                    # whatever the code raised next.
                    reason = attempt_db.info.get(_RUN_AGAIN_KEY)
                if reason is None or self.is_sqlite:
                    raise
                if attempt == UNIT_OF_WORK_ATTEMPTS:
                    busy = DatabaseBusy(
                        f"The database is busy: this request met other writers of the same "
                        f"rows {attempt} times. Nothing was saved; try again.",
                        retry_after_seconds=1,
                    )
                    logger.warning("unit of work aborted %d times, the last: %s", attempt, reason)
                    raise busy from error
                if attempt_db is not None:
                    for key in (_ROWS_HELD_KEY, _ROWS_WANTED_KEY):
                        for table, ids in attempt_db.info.pop(key, {}).items():
                            lock_first.setdefault(table, set()).update(ids)
                logger.info("unit of work aborted (%s); attempt %d again", reason, attempt + 1)
                time.sleep(random.uniform(0.001, 0.02 * attempt))
                attempt += 1

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work that never holds or waits for a write lock.

        Raises DatabaseUnavailable as :meth:`transaction` does (a deleted SQLite file is no
        more read than written: a new connection would create an empty one).
        """
        with self._failures_translated():
            if self._file_identity is not None:
                self._file_identity.check()
            kept = self._kept_readers
            with nullcontext(None) if kept is None else kept.connection() as connection:
                session = self._reader() if connection is None else self._reader(bind=connection)
                try:
                    with in_unit(session):
                        yield session
                finally:
                    # Ends the transaction with a ROLLBACK (whatever a hook flushed is
                    # dropped) and lets go of the objects, without first expiring each one
                    # as a rollback() would: nothing reads them again. A kept connection
                    # stays open, outside any transaction.
                    session.close()

    @contextmanager
    def _failures_translated(self) -> Iterator[None]:
        """Turn a database failure that is not the unit of work's fault into DatabaseBusy or
        DatabaseUnavailable, logged (:meth:`_log`); anything else passes unchanged."""
        try:
            yield
        except sa.exc.DBAPIError as error:
            translated = self._translated(error)
            if translated is error:
                raise
            raise translated from error
        except DatabaseUnavailable as error:
            self._log(error)
            raise

    def dispose(self) -> None:
        """Close every pooled connection (and log how many units each group commit held)."""
        if self.batches_committed:
            logger.info(
                "group commit: %d units of work in %d commits (%.1f a commit)",
                self.units_in_batches,
                self.batches_committed,
                self.units_in_batches / self.batches_committed,
            )
        if self._kept_readers is not None:
            self._kept_readers.close_all()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
        if self._between_units_pool is not self.engine:
            self._between_units_pool.dispose()
