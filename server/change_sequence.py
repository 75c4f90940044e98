"""The change sequence behind incremental exports (``?since=``): which participants' exported
data changed after a pull.

Every unit of work that changes what a participant's wide export row shows stamps that
participant's row (``grove_participant.changed_seq`` and ``changed_at``) in the same
transaction: a change to the participant, to one of their player rows, or to their group or
subsession (every member), and an app's ExtraModel row created, changed or deleted, for whom
its links lead to (``_extra_model_leads``: a live method that only writes such a row changes
what the app's custom export, and the model's own export, show). A change to their session
stamps the session's own row instead (``grove_session.changed_seq`` and ``changed_at``, in the
row's own UPDATE), and a pull returns every participant of a session stamped after its cursor:
session.vars written by a hook costs no UPDATE of every participant of the session, and takes
none of their row locks (on PostgreSQL such a unit of work, holding its own participant,
deadlocked with the other participants' units writing session.vars at once). The stamping is a
SQLAlchemy flush hook, so no use case has to remember it; it costs one extra UPDATE per flush
that changes a player, group, subsession or ExtraModel row, and none for rows already stamped
in the transaction.

A pull reads the rows with ``changed_seq > since`` and answers a cursor, ``next_since``, for
the next pull. Commit order is not the order in which transactions take numbers, so the cursor
is not simply the largest number seen:

* SQLite serializes writers (``BEGIN IMMEDIATE``). A transaction's number is a counter row
  bumped inside it (``grove_change_counter``), so numbers are handed out in commit order and
  the cursor is the counter as the pull's snapshot sees it. Exact. The units of work of a
  group commit are one transaction and share its number (one bump for the batch).
* PostgreSQL runs writers concurrently: a transaction that took its number early may commit
  after a pull that could not see it. The number is the writing transaction's own id
  (``pg_current_xact_id()``, 64 bits, never reused), and the cursor is one below the oldest
  transaction still in flight when the pull's snapshot was taken
  (``pg_snapshot_xmin(pg_current_snapshot())``): every transaction below it had finished, and
  was seen or rolled back; any transaction that commits later has an id at or above it. A
  participant written by a transaction in flight during a pull is therefore returned again by
  the next pull (at least once, never missed); with no concurrent writers the next pull
  returns only newer changes. This is the snapshot rule of PostgreSQL's logical replication
  and transactional-outbox readers, and needs no lock shared by writers.

A cursor names the database it came from: ``c<number>-<identity>``, the identity chosen when
the database's tables were created (a new database, ``resetdb``, or migration 0014 for one made
before; ``grove_database_identity``). Numbers of two databases cannot be compared: a cursor
from before a ``resetdb`` or from another server, answered as this database's, made an empty
answer whose older ``next_since`` skipped every change numbered up to it, for good. So a pull
refuses (ForeignCursor, HTTP 409) a cursor naming another identity, and one ahead of this
database (a number no cursor of it can hold yet: a backup restored keeps the identity but
hands out the numbers after it again; only until it has passed them can that be told). The
``c<number>`` cursors handed out before identities are checked for the latter only.

Locks: a participant's own stamp rides in the UPDATE of their row, a session's in the UPDATE
of the session's row. Stamping the other members of a changed group or subsession locks their
participant rows in ascending id after the group's (LOCK ORDER steps 2 then 3 of
``server/db.py``), as a wait page's payoffs already do; a cycle that an app hook's own
writes might still close is a deadlock that ``Database.run`` retries.

Deleted participants are not reported (they have no row left to stamp).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.util import identity_key

from server.errors import ForeignCursor, InvalidArguments
from server.extra_model import ExtraModel
from server.listing_bounds import utc_bound
from server.model_bases import BaseGroup, BasePlayer, BaseSubsession
from server.models.core import ExperimentSession, Participant, utcnow
from server.models.export_log import ChangeCounter, DatabaseIdentity

_STATE = "grove_change_stamp"
# PostgreSQL: the writing transaction's id, its sequence number (module docstring).
_XACT_ID = sa.literal_column("pg_current_xact_id()::text::bigint", sa.BigInteger)
_IN_CHUNK = 500
# Built once: building them took about a tenth of a page submission's CPU time (each
# submission stamps its participant, so each one bumps the counter).
_READ_XACT_ID = sa.select(_XACT_ID)
_BUMP_COUNTER = (
    sa.update(ChangeCounter)
    .where(ChangeCounter.id == 1)
    .values(value=ChangeCounter.value + 1)
    .returning(ChangeCounter.value)
)
_FIRST_COUNTER = sa.insert(ChangeCounter).values(id=1, value=1)
CURSOR_PREFIX = "c"
# Session.info key (PostgreSQL): this transaction's id, answered by a statement the unit of
# work sent anyway (``note_transaction_id``), so the stamp need not ask for it.
_TRANSACTION_ID = "grove_transaction_id"
# Connection.info key (SQLite): (the root transaction, its sequence number) of the last
# bump on that connection, for the other units of a group commit (_sequence_value).
_SHARED_NUMBER = "grove_change_number"


class _Stamp:
    """What one transaction has stamped so far, and its sequence number (SQLite)."""

    def __init__(self) -> None:
        self.value: int | None = None
        self.at = utcnow()
        self.participants: set[int] = set()
        self.groups: set[tuple[str, int]] = set()
        self.subsessions: set[tuple[str, int]] = set()
        # SQLite: the connection whose transaction this unit bumped the counter in (its
        # number is shared there: _sequence_value), None if it took a shared number.
        self.bumped_on: sa.Connection | None = None


def _is_postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _stamp_of(db: Session) -> _Stamp:
    stamp = db.info.get(_STATE)
    if stamp is None:
        stamp = db.info[_STATE] = _Stamp()
    return stamp


def _sequence_value(db: Session, stamp: _Stamp) -> int:
    """This transaction's sequence number, read once per transaction (a plain number, so a
    session's thousands of new participants are still inserted in batches).

    SQLite: the units of work of one group commit (``server/db.py``, GROUP COMMIT) are one
    transaction, committed at once, so they share its number: the first to stamp bumps the
    counter and leaves the number on the connection for the batch's transaction
    (``_SHARED_NUMBER``); the others send no statement for it. A rollback that may undo the
    bump takes the number back (``_forget_stamp``), and the next unit bumps again."""
    if stamp.value is not None:
        return int(stamp.value)
    if _is_postgres(db):
        known = db.info.get(_TRANSACTION_ID)
        if known is None:
            known = db.connection().execute(_READ_XACT_ID).scalar_one()
        stamp.value = known
        return int(stamp.value)
    connection = db.connection()
    transaction = connection.get_transaction()
    shared = connection.info.get(_SHARED_NUMBER)
    if shared is not None and shared[0] is transaction:
        stamp.value = shared[1]
        return int(stamp.value)
    # One statement: the bump answers the new value (SQLite 3.35+ has RETURNING).
    stamp.value = connection.execute(_BUMP_COUNTER).scalar()
    if stamp.value is None:  # the first change in this database
        connection.execute(_FIRST_COUNTER)
        stamp.value = 1
    connection.info[_SHARED_NUMBER] = (transaction, stamp.value)
    stamp.bumped_on = connection
    return int(stamp.value)


def _stamp_condition(app_name: str | None, column: str) -> Any:
    """The participants whose ``column`` is in ``:ids`` (``app_name`` None: the participant
    table's own column), or whose player of ``app_name`` has its ``column`` in ``:ids``."""
    table: sa.Table = Participant.__table__  # type: ignore[assignment]
    ids: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
    if app_name is None:
        return table.c[column].in_(ids)
    players = sa.table(f"{app_name}_player", sa.column("participant_id"), sa.column(column))
    return table.c.id.in_(sa.select(players.c.participant_id).where(players.c[column].in_(ids)))


@functools.lru_cache(maxsize=512)
def _sqlite_stamp(app_name: str | None, column: str) -> sa.Update:
    """SQLite: the UPDATE that stamps (``:seq``, ``:at``) the participants of
    ``_stamp_condition``. Built once per table and column, so a flush hook's statement is not
    built and its cache key not worked out at every flush."""
    table: sa.Table = Participant.__table__  # type: ignore[assignment]
    return (
        table.update()
        .where(_stamp_condition(app_name, column))
        .values(changed_seq=sa.bindparam("seq"), changed_at=sa.bindparam("at"))
    )


@functools.lru_cache(maxsize=512)
def _postgres_stamp(app_name: str | None, column: str, numbered: bool) -> sa.Update:
    """PostgreSQL: the UPDATE that stamps the participants of ``_stamp_condition`` with
    ``:at`` and the number ``:seq`` (``numbered``) or the transaction's id, and answers the
    number. Built once per table, column and kind, as ``_sqlite_stamp``.

    One statement: row locks in ascending id (LOCK ORDER step 3; a CTE with FOR UPDATE is run
    apart, in its ORDER BY, not in the UPDATE's scan order), then the stamp, whose number the
    first stamped row answers (no round trip to read it first)."""
    table: sa.Table = Participant.__table__  # type: ignore[assignment]
    locked = (
        sa.select(table.c.id)
        .where(_stamp_condition(app_name, column))
        .order_by(table.c.id)
        .with_for_update()
        .cte("stamped")
    )
    number = sa.bindparam("seq", type_=sa.BigInteger) if numbered else _XACT_ID
    return (
        table.update()
        .where(table.c.id.in_(sa.select(locked.c.id)))
        .values(changed_seq=number, changed_at=sa.bindparam("at"))
        .returning(table.c.changed_seq)
    )


# Columns Grove itself sets as it writes a participant or session row (presence, change stamps,
# the session's version), which no export shows: a change to these alone stamps nothing (a
# refused form notes the participant as seen, and the next ?since= pull must not return them);
# nor are they values an app hook read and wrote back (``server/unlocked_writes.py``).
BOOKKEEPING_COLUMNS = frozenset({"last_seen", "changed_seq", "changed_at", "row_version"})


def _modified(db: Session, row: Any) -> bool:
    return db.is_modified(row, include_collections=False)


def _changes_export_data(db: Session, row: Any) -> bool:
    # Only attributes set since the load (or the last flush) can have changes: SQLAlchemy keeps
    # their loaded values in ``committed_state``. Their history says whether a value really
    # changed (one set to what it was is not a change).
    state = sa.inspect(row)
    return any(
        key not in BOOKKEEPING_COLUMNS and state.attrs[key].history.has_changes()
        for key in state.committed_state
    )


@event.listens_for(Session, "before_flush")
def _stamp_participants(db: Session, _context: Any, _instances: Any) -> None:
    # Participants in this flush carry their stamp in their own INSERT or UPDATE, and so do
    # sessions changed (a new session's participants are new and stamped themselves).
    rows = [
        row
        for row in (*db.new, *db.dirty)
        if (isinstance(row, Participant) and (row in db.new or _changes_export_data(db, row)))
        or (
            isinstance(row, ExperimentSession)
            and row not in db.new
            and _changes_export_data(db, row)
        )
    ]
    if not rows:
        return
    stamp = _stamp_of(db)
    value = _sequence_value(db, stamp)
    for row in rows:
        row.changed_seq = value
        row.changed_at = stamp.at
        if isinstance(row, Participant) and row.id is not None:
            stamp.participants.add(row.id)


@event.listens_for(Session, "after_flush")
def _stamp_related(db: Session, _context: Any) -> None:
    # Rows of other tables: stamp the participants whose export rows show them.
    stamp: _Stamp | None = db.info.get(_STATE)
    participant_ids: set[int] = set()
    groups: dict[Any, set[int]] = {}
    subsessions: dict[Any, set[int]] = {}
    # Players (by model, their ids) an ExtraModel row links to, not loaded in this session.
    unloaded_players: dict[Any, set[int]] = {}
    for row in db.deleted:
        if isinstance(row, ExtraModel):
            _extra_model_leads(db, row, participant_ids, unloaded_players, groups, subsessions)
    for row in (*db.new, *db.dirty):
        if isinstance(row, (Participant, ExperimentSession)):
            # Stamped in its own INSERT or UPDATE (not when only BOOKKEEPING_COLUMNS changed).
            # A session's change stamps its own row (before_flush).
            if (
                isinstance(row, Participant)
                and row.id is not None
                and stamp is not None
                and row.changed_seq == stamp.value
            ):
                stamp.participants.add(row.id)
            continue
        is_new = row in db.new
        if not is_new and not _modified(db, row):
            continue
        if isinstance(row, BasePlayer):
            participant_ids.add(row.participant_id)
        elif isinstance(row, BaseGroup) and not is_new:
            groups.setdefault(type(row), set()).add(row.id)
        elif isinstance(row, BaseSubsession) and not is_new:
            subsessions.setdefault(type(row), set()).add(row.id)
        elif isinstance(row, ExtraModel):
            _extra_model_leads(db, row, participant_ids, unloaded_players, groups, subsessions)
    if not (participant_ids or groups or subsessions or unloaded_players):
        return
    stamp = _stamp_of(db)
    participant_ids -= stamp.participants
    # (app whose players link them, or None; the column; ids in it) of the rows to stamp
    targets: list[tuple[str | None, str, list[int]]] = [
        (None, "id", chunk) for chunk in _chunks(sorted(participant_ids))
    ]
    for model, ids in unloaded_players.items():
        app_name = model.__table__.name.rsplit("_", 1)[0]
        targets.extend((app_name, "id", chunk) for chunk in _chunks(sorted(ids)))
    for model, ids, done, column in (
        *((m, i, stamp.groups, "group_id") for m, i in groups.items()),
        *((m, i, stamp.subsessions, "subsession_id") for m, i in subsessions.items()),
    ):
        app_name = model.__table__.name.rsplit("_", 1)[0]
        new_ids = sorted(i for i in ids if (app_name, i) not in done)
        if not new_ids:
            continue
        done.update((app_name, i) for i in new_ids)
        targets.extend((app_name, column, chunk) for chunk in _chunks(new_ids))
    stamp.participants.update(participant_ids)
    _run_stamps(db, stamp, targets)


def _run_stamps(
    db: Session, stamp: _Stamp, targets: list[tuple[str | None, str, list[int]]]
) -> None:
    """Stamp the participants of each target (app whose players link them, or None; the
    column; ids in it) with this transaction's stamp, through the cached statements
    (``_sqlite_stamp``, ``_postgres_stamp``)."""
    if not targets:
        return
    connection = db.connection()
    if not _is_postgres(db):
        value = _sequence_value(db, stamp)
        for app_name, column, chunk in targets:
            connection.execute(
                _sqlite_stamp(app_name, column), {"ids": chunk, "seq": value, "at": stamp.at}
            )
        return
    for app_name, column, chunk in targets:
        known = _known_number(db, stamp)
        answered = connection.execute(
            _postgres_stamp(app_name, column, known is not None),
            {"ids": chunk, "at": stamp.at, **({} if known is None else {"seq": known})},
        ).first()
        if stamp.value is None and answered is not None:
            stamp.value = int(answered[0])


def _extra_model_leads(
    db: Session,
    row: ExtraModel,
    participant_ids: set[int],
    players: dict[Any, set[int]],
    groups: dict[Any, set[int]],
    subsessions: dict[Any, set[int]],
) -> None:
    """Note whom a new, changed or deleted ExtraModel row's links lead to (the rows linked
    now, and those a changed link linked before): a player link its participant (in
    ``players``, by player id, when the player is not loaded), a participant link that
    participant, a group or subsession link every member (as a changed group or subsession),
    a link to another ExtraModel row whom that row leads to. A session link, and a row with no
    link set, lead to nobody: the ExtraModel's export returns such rows in every ``?since=``
    pull (``server/data_export/extra.py``)."""
    if row not in db.new and row not in db.deleted and not _modified(db, row):
        return
    seen: set[int] = set()
    pending: list[Any] = [row]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for target, linked_id in _linked_ids(current):
            if issubclass(target, Participant):
                participant_ids.add(linked_id)
            elif issubclass(target, BasePlayer):
                player = db.identity_map.get(identity_key(target, linked_id))
                if player is not None:
                    participant_ids.add(player.participant_id)
                else:
                    players.setdefault(target, set()).add(linked_id)
            elif issubclass(target, BaseGroup):
                groups.setdefault(target, set()).add(linked_id)
            elif issubclass(target, BaseSubsession):
                subsessions.setdefault(target, set()).add(linked_id)
            elif issubclass(target, ExtraModel):
                with db.no_autoflush:  # a SELECT only if that row is not loaded
                    linked = db.get(target, linked_id)
                if linked is not None:
                    pending.append(linked)


def _linked_ids(row: ExtraModel) -> Iterable[tuple[type, int]]:
    """(the link's target model, the id of a row it links to) for each link of ``row``: the
    row linked now and, for a link changed since the load, the one linked before; read from
    the relationship where it was set or loaded (a row just created has no ``<link>_id`` yet
    before its flush), else from the ``<link>_id`` column."""
    state = sa.inspect(row)
    for name, link in type(row)._grove_links.items():
        ids: set[int] = set()
        for value in _history_values(state, name):
            identity = sa.inspect(value).identity
            if identity is not None:
                ids.add(int(identity[0]))
        ids.update(int(value) for value in _history_values(state, f"{name}_id"))
        for linked_id in ids:
            yield link.to, linked_id


def _history_values(state: Any, name: str) -> list[Any]:
    # ``history``, not ``load_history()``: a relationship not loaded is not loaded for it.
    history = state.attrs[name].history
    return [v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None]


def transaction_id_column() -> Any:
    """PostgreSQL: a column that answers the reading transaction's id (its change number),
    for a statement a unit of work sends anyway; pass the value to ``note_transaction_id``.
    Reading it assigns the transaction an id, as a row lock or a write does."""
    return _XACT_ID


def note_transaction_id(db: Session, value: int) -> None:
    """PostgreSQL: ``value``, read from ``transaction_id_column`` in ``db``'s current
    transaction, is its change number: the stamp sends no statement to ask for it. Forgotten
    when the transaction ends."""
    db.info[_TRANSACTION_ID] = int(value)


def _known_number(db: Session, stamp: _Stamp) -> int | None:
    """PostgreSQL: the transaction's number if this unit of work knows it already."""
    if stamp.value is not None:
        return stamp.value
    known: int | None = db.info.get(_TRANSACTION_ID)
    return known


def stamp_participant(db: Session, participant_id: int) -> dict[str, Any]:
    """The change stamp of one participant, as ``changed_seq`` and ``changed_at`` values for
    a Core UPDATE of that participant's row that changes exported data (a unit of work that
    writes the row without the ORM, whose flush hook stamps it otherwise).

    On PostgreSQL the number may be an SQL expression (the transaction's id), computed in the
    UPDATE itself; on SQLite it is the transaction's number (the counter bumped once).
    """
    stamp = _stamp_of(db)
    stamp.participants.add(participant_id)
    if not _is_postgres(db):
        return {"changed_seq": _sequence_value(db, stamp), "changed_at": stamp.at}
    known = _known_number(db, stamp)
    number = _XACT_ID if known is None else sa.literal(known, sa.BigInteger)
    return {"changed_seq": number, "changed_at": stamp.at}


def stamp_participants(db: Session, participant_ids: Iterable[int]) -> None:
    """Stamp these participants as changed by this transaction, with the flush hook's own
    cached UPDATEs (one per chunk of ids): for a write the flush hooks do not see that
    changes what their exports show, a Core INSERT of their rows (a wait page's page-times
    rows for members its completion does not move, who may change nothing more).
    Participants this transaction stamped already are left out. The caller holds their
    rows' locks (LOCK ORDER 3)."""
    stamp = _stamp_of(db)
    ids = sorted(set(participant_ids) - stamp.participants)
    if not ids:
        return
    stamp.participants.update(ids)
    _run_stamps(db, stamp, [(None, "id", chunk) for chunk in _chunks(ids)])


def stamp_new_rows(db: Session) -> dict[str, Any]:
    """The change stamp of participants a unit of work INSERTs without the ORM (a session's
    participants, in one Core executemany, which the flush hook does not see), as
    ``changed_seq`` and ``changed_at`` values to put in every row: a plain number (on
    PostgreSQL the transaction's id, read once if the unit of work does not know it yet).
    New participants are changes: the next ``?since=`` pull returns them."""
    stamp = _stamp_of(db)
    return {"changed_seq": _sequence_value(db, stamp), "changed_at": stamp.at}


@event.listens_for(Session, "after_rollback")
def _forget_stamp(db: Session) -> None:
    # Any rollback, a savepoint's too: its counter bump may be undone with it, and with it
    # the number shared with the group commit's other units.
    stamp: _Stamp | None = db.info.pop(_STATE, None)
    if stamp is not None and stamp.bumped_on is not None:
        stamp.bumped_on.info.pop(_SHARED_NUMBER, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_stamp_at_the_end(db: Session, transaction: SessionTransaction) -> None:
    # The transaction's end, not a savepoint's release (SQLAlchemy calls after_commit for
    # that too): the number and the participants stamped hold until the COMMIT.
    if transaction.parent is None:
        db.info.pop(_STATE, None)
        db.info.pop(_TRANSACTION_ID, None)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PullPosition:
    """Where this database's change sequence stands in a pull's snapshot.

    ``identity``: the database's (``grove_database_identity``; None if it has none, then
    cursors are in the old form ``c<number>``); ``number``: the cursor's number (module
    docstring); ``newest``: the largest number a cursor this database handed out can hold
    (SQLite: the counter; PostgreSQL: one below the next transaction id)."""

    identity: str | None
    number: int
    newest: int

    @property
    def cursor(self) -> str:
        """``next_since``: ``c<number>-<identity>`` (``c<number>`` without an identity)."""
        if self.identity is None:
            return f"{CURSOR_PREFIX}{self.number}"
        return f"{CURSOR_PREFIX}{self.number}-{self.identity}"


_IDENTITY = sa.select(DatabaseIdentity.token).where(DatabaseIdentity.id == 1).scalar_subquery()
_PG_POSITION = sa.text(
    "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, "
    "(SELECT token FROM grove_database_identity WHERE id = 1) FROM pg_current_snapshot() AS s"
)
_SQLITE_POSITION = sa.select(
    sa.select(ChangeCounter.value).where(ChangeCounter.id == 1).scalar_subquery(), _IDENTITY
)


def current_position(db: Session) -> PullPosition:
    """Where a pull reading in ``db``'s snapshot stands (see the module docstring), in one
    statement. Call it first in the read transaction, before the rows are read."""
    if _is_postgres(db):
        xmin, xmax, identity = db.execute(_PG_POSITION).one()
        # Every transaction a cursor of this database names began before its pull: below xmax.
        return PullPosition(identity, int(xmin) - 1, int(xmax) - 1)
    value, identity = db.execute(_SQLITE_POSITION).one()
    return PullPosition(identity, int(value or 0), int(value or 0))


# ``c<number>``, and since database identities ``c<number>-<identity>``.
_CURSOR = re.compile(rf"^{CURSOR_PREFIX}(\d{{1,19}})(?:-([0-9a-fA-F]{{1,32}}))?$")
_EPOCH = re.compile(r"^\d{1,12}(\.\d+)?$")
START_OVER = "Start over: pull again without since, and replace the rows you kept with its answer."


def since_condition(since: str | None, position: PullPosition | None = None) -> Any:
    """The WHERE clause on ``grove_participant`` for ``?since=``, or None for no filter.

    ``since`` is a cursor from an earlier answer (``c<number>-<identity>``, or ``c<number>``
    as Grove wrote it before databases had an identity; exact), epoch seconds or an ISO 8601
    time (``2026-11-30T12:00:00Z``; without a zone, UTC; with an offset, that moment): the
    rows whose data changed at or after that wall-clock time, a convenience that trusts
    the server's clock. Raises InvalidArguments (field ``since``) for anything else, or a time
    no UTC date can hold.

    With the pull's ``position``, a cursor is checked against this database: one naming
    another database's identity (a database reset, another server's), or one ahead of this
    database's changes (a backup restored, or another server's old-form cursor), raises
    ForeignCursor. Answered as this database's, it would skip this database's changes
    numbered up to it, for good. Without ``position``, only the form is checked.
    """
    if since is None or since == "":
        return None
    text = since.strip()
    cursor = _CURSOR.match(text)
    if cursor and int(cursor.group(1)) < 2**63:
        number = int(cursor.group(1))
        if position is not None:
            _check_cursor(text, number, cursor.group(2), position)
        return _changed(Participant.changed_seq > number, ExperimentSession.changed_seq > number)
    if _EPOCH.match(text):
        try:
            moment = dt.datetime.fromtimestamp(float(text), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise InvalidArguments(
                f"since: {text} seconds is not a time this server can read", field="since"
            ) from None
    else:
        # An unencoded "+01:00" in a query string arrives as " 01:00".
        text = re.sub(r" (\d\d:?\d\d)$", r"+\1", text.replace("Z", "+00:00"))
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidArguments(
                f"since must be a cursor from next_since (c123-...), epoch seconds or an "
                f"ISO 8601 time, not {since!r}",
                field="since",
            ) from None
        moment = utc_bound(moment, "since")  # SQLite would drop the offset
    return _changed(Participant.changed_at >= moment, ExperimentSession.changed_at >= moment)


def _check_cursor(text: str, number: int, identity: str | None, position: PullPosition) -> None:
    """Raise ForeignCursor unless cursor ``text`` may be this database's (see
    ``since_condition``). An old-form cursor names no database: only its number is checked."""
    if identity is not None and identity.lower() != position.identity:
        raise ForeignCursor(
            f"since: the cursor {text} came from another database (this one was reset with "
            "resetdb or replaced, or the cursor is another server's): its changes are not "
            f"this database's. {START_OVER}"
        )
    if number > position.newest:
        raise ForeignCursor(
            f"since: the cursor {text} is ahead of this database (which is at "
            f"{position.cursor}): the database was restored from a backup or reset, or the "
            f"cursor is another server's, and its changes up to there would be missed. "
            f"{START_OVER}"
        )


def _changed(participant_changed: Any, session_changed: Any) -> Any:
    """The participants whose own stamp or whose session's stamp passes the condition."""
    return sa.or_(
        participant_changed,
        Participant.session_id.in_(sa.select(ExperimentSession.id).where(session_changed)),
    )
