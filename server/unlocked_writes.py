"""Rows a unit of work writes without holding their lock (PostgreSQL).

A page submission, a live message or a timeout locks the group (or subsession) of the
participant's page and the participant's row (LOCK ORDER in ``server/db.py``). App hooks may
write other rows too, read without their lock: the session (oTree's usual counter,
``session.vars["n"] = session.vars.get("n", 0) + 1``), the subsession, another group, another
participant's ``participant.vars``. oTree serves one request at a time, so such a counter
counts every participant; on PostgreSQL, with several workers, two units could each read the
row, each write it back (one's change lost), or each hold its own participant while waiting
for the other's (a deadlock).

Before a flush writes such a row, this hook locks it without waiting (``FOR NO KEY UPDATE
NOWAIT``, the lock the UPDATE takes anyway) and reads the columns the unit changes (and
the session's version counter, which any change of the row bumps): if another transaction
holds the row, or committed a change to one of those columns (or to the session) since the
unit read it, nothing is written and RunAgainWithLocks is raised; ``Database.run`` runs the
unit again from the start with every row its attempt held or wrote locked first, in LOCK
ORDER (``db.note_rows_held``, ``db.note_rows_wanted``), so the second attempt reads them as
the last committed unit left them and cannot lose or be lost. A row counts as held only once
this check locked it: an attempt whose check failed writes nothing more (its later flushes
raise RunAgainWithLocks at once, whatever app code or a savepoint did with the first), so a
unit never waits for such a row while holding its own (no deadlock), and a unit whose row was
free and unchanged writes it at once (one statement more).

A player's row is written by Grove under their group's lock (the scope of their page) or
their participant's (their own request, a wait page's completion, which holds every member),
so a unit that holds either writes it at once. A hook may write other players too (``p.hits
+= 1`` for every player of the round): before such a row is written, the player's group (as
stored) and participant are locked the same way, without waiting, and noted held, and the
player's changed columns compared with their values as loaded. A writer holding that group
or participant makes the lock fail, a writer that committed a change shows in the compare
(either way the unit is run again, with them locked first); a writer that comes later waits
for them and reads the row afresh.

On SQLite, whose write lock serializes every unit of work, nothing is checked. The session
row also has a version counter (``row_version``): its UPDATE names the version read, so a
write that got past this check anyway (a unit with its own session, a Core write) cannot
overwrite a newer one unnoticed either; the check compares that version too, so a session
changed meanwhile in a column the unit did not change (an admin's description) is run again
as RunAgainWithLocks, noted where it is raised, rather than failing the flush with
StaleDataError, which an app hook's ``try`` could swallow.
"""

from __future__ import annotations

import functools
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from server.change_sequence import BOOKKEEPING_COLUMNS
from server.db import (
    RunAgainWithLocks,
    note_rows_held,
    note_rows_wanted,
    note_run_again,
    row_lock_statement,
    rows_held,
    run_again_noted,
)
from server.model_bases import BaseGroup, BasePlayer, BaseSubsession
from server.models.base import LOADED_JSON, TracksJsonVars, stored_json
from server.models.core import ExperimentSession, Participant

_CHECKED = (ExperimentSession, Participant, BaseSubsession, BaseGroup)
_LOCK_NOT_AVAILABLE = "55P03"
_PARTICIPANT_TABLE = cast(sa.Table, Participant.__table__)


@event.listens_for(Session, "before_flush")
def _check_rows_written_unlocked(db: Session, _context: Any, _instances: Any) -> None:
    if db.get_bind().dialect.name != "postgresql":
        return
    doomed = run_again_noted(db)
    if doomed is not None:
        # This attempt is rolled back and run again whatever it does next (an app hook or a
        # savepoint caught its RunAgainWithLocks): it writes nothing more, so it takes no
        # further lock and waits for none while it holds its own.
        raise RunAgainWithLocks(doomed)
    held = rows_held(db)
    written: list[tuple[Any, sa.Table, dict[str, Any]]] = []
    writers_locks: dict[sa.Table, set[int]] = {}
    for row in db.dirty:
        if isinstance(row, BasePlayer):
            _check_player(row, held, written, writers_locks)
            continue
        if not isinstance(row, _CHECKED) or row.id is None:
            continue
        table = cast(sa.Table, type(row).__table__)  # type: ignore[union-attr]
        if row.id in held.get(table, ()):
            continue
        loaded = _loaded_values_changed(row)
        if loaded:
            written.append((row, table, loaded))
    # All noted before any is checked: a unit run again locks every one of them first, not
    # only the first found held (which would take an attempt per row). Noted as held only
    # once locked: a row this attempt could not lock is checked again at its next write.
    by_table: dict[sa.Table, list[tuple[Any, dict[str, Any]]]] = {}
    for table, ids in writers_locks.items():
        note_rows_wanted(db, table, ids)
    for row, table, loaded in written:
        if not isinstance(row, BasePlayer):  # a player's writers' locks are noted instead
            note_rows_wanted(db, table, (row.id,))
        by_table.setdefault(table, []).append((row, loaded))
    for table in sorted(writers_locks, key=lambda t: t.name):
        _lock_without_waiting(db, table, writers_locks[table])
        note_rows_held(db, table, writers_locks[table])
    for table in sorted(by_table, key=lambda t: t.name):
        rows = by_table[table]
        _lock_and_compare(db, table, rows)
        if not isinstance(rows[0][0], BasePlayer):
            note_rows_held(db, table, [row.id for row, _loaded in rows])


def _check_player(
    player: Any,
    held: dict[sa.Table, set[int]],
    written: list[tuple[Any, sa.Table, dict[str, Any]]],
    writers_locks: dict[sa.Table, set[int]],
) -> None:
    """Add ``player`` (a dirty row of an app's Player table) to ``written`` and its group and
    participant rows to ``writers_locks`` ({table: ids}) unless this unit holds one of them
    (Grove's own writes of a player, at no cost) or it changes nothing it read."""
    group_table = cast(sa.Table, player._grove_app.group_cls.__table__)
    # From the row's dict, not getattr: a look that loaded an expired column would cost a
    # statement in Grove's own writes (a row whose columns are expired is loaded below).
    participant_id = player.__dict__.get("participant_id")
    group_id = _stored_value(player, "group_id")
    if _held(held, participant_id, group_table, group_id):
        return
    loaded = _loaded_values_changed(player)
    if not loaded:
        return  # changes nothing it read (or nothing at all)
    if participant_id is None or group_id is None:  # expired since it was read
        participant_id, group_id = player.participant_id, _stored_value(player, "group_id")
        if _held(held, participant_id, group_table, group_id):
            return
    written.append((player, cast(sa.Table, type(player).__table__), loaded))
    writers_locks.setdefault(_PARTICIPANT_TABLE, set()).add(participant_id)
    if group_id is not None:
        writers_locks.setdefault(group_table, set()).add(group_id)


def _held(
    held: dict[sa.Table, set[int]], participant_id: Any, group_table: sa.Table, group_id: Any
) -> bool:
    """Does this unit hold the participant ``participant_id`` or group ``group_id``'s row?"""
    return participant_id in held.get(_PARTICIPANT_TABLE, ()) or group_id in held.get(
        group_table, ()
    )


def _stored_value(row: Any, key: str) -> Any:
    """``row``'s attribute ``key`` as stored (before a change this unit made), None if it is
    not loaded."""
    before = sa.inspect(row).committed_state.get(key, NO_VALUE)
    return row.__dict__.get(key) if before is NO_VALUE else before


def _lock_without_waiting(db: Session, table: sa.Table, ids: set[int]) -> None:
    """Lock rows ``ids`` of ``table`` as a writer does (FOR NO KEY UPDATE: it conflicts with
    the FOR UPDATE of ``lock_ids_in_order`` and the participant's locked read) without
    waiting; RunAgainWithLocks if another transaction holds one."""
    try:
        db.connection().execute(
            row_lock_statement(table, key_share=True, nowait=True), {"ids": sorted(ids)}
        ).all()
    except sa.exc.DBAPIError as error:
        _run_again_if_held(db, table, error)
        raise


def _loaded_values_changed(row: Any) -> dict[str, Any]:
    """{attribute: the value as loaded} of the row's columns changed since it was read (JSON
    columns as their stored text); attributes set without a value loaded first are left
    out (written blind: nothing read can be lost)."""
    state = sa.inspect(row)
    columns = state.mapper.columns
    json_loaded = row.__dict__.get(LOADED_JSON, {})
    json_columns = row._json_columns if isinstance(row, TracksJsonVars) else ()
    changed: dict[str, Any] = {}
    for key, value in state.committed_state.items():
        if key in BOOKKEEPING_COLUMNS or key not in columns:
            continue  # Grove's own stamps, or a relationship
        if key in json_columns:
            if key in json_loaded:
                changed[key] = json_loaded[key]
        elif value is not NO_VALUE and state.attrs[key].history.has_changes():
            changed[key] = value
    return changed


def _lock_and_compare(db: Session, table: sa.Table, rows: list[tuple[Any, dict[str, Any]]]) -> None:
    """Lock ``rows`` of ``table`` (each with its columns as loaded) without waiting, in one
    statement, and check that those columns are unchanged; RunAgainWithLocks if one is held
    elsewhere or changed."""
    mapper = sa.inspect(type(rows[0][0]))
    version_key = _version_key(mapper)
    if version_key is not None:
        # The version as read, compared too: another unit's change to a column this one did
        # not change (an admin's description) bumps it, and the flush's UPDATE, naming the
        # version read, would match no row (StaleDataError, which an app hook's ``try`` may
        # swallow: the transaction is then unusable and its next statement a 500).
        rows = [(row, _with_version(row, version_key, loaded)) for row, loaded in rows]
    keys = tuple(sorted({key for _row, loaded in rows for key in loaded}))
    try:
        found = db.connection().execute(
            _locked_columns(mapper, keys), {"ids": sorted(row.id for row, _loaded in rows)}
        )
        current = {values[0]: values[1:] for values in found}
    except sa.exc.DBAPIError as error:
        _run_again_if_held(db, table, error)
        raise
    for row, loaded in rows:
        values = current.get(row.id)
        if values is None:
            continue  # deleted meanwhile: the flush's UPDATE reports it
        json_columns = row._json_columns if isinstance(row, TracksJsonVars) else ()
        for key, value in zip(keys, values, strict=True):
            if key not in loaded:
                continue
            now = stored_json(value) if key in json_columns else value
            if now != loaded[key]:
                reason = f"{table.name} row {row.id} changed since it was read"
                note_run_again(db, reason)
                raise RunAgainWithLocks(reason)


def _version_key(mapper: Any) -> str | None:
    """The attribute of ``mapper``'s version counter (``version_id_col``), or None."""
    column = mapper.version_id_col
    if column is None:
        return None
    key: str = mapper.get_property_by_column(column).key
    return key


def _with_version(row: Any, key: str, loaded: dict[str, Any]) -> dict[str, Any]:
    """``loaded`` with the row's version counter as read (the flush has not changed it yet),
    when it was read."""
    version = sa.inspect(row).dict.get(key)
    return loaded if version is None else {**loaded, key: version}


def _run_again_if_held(db: Session, table: sa.Table, error: sa.exc.DBAPIError) -> None:
    """RunAgainWithLocks (noted) if ``error`` is a NOWAIT lock of ``table`` that found a row
    held; else nothing (the caller raises ``error``)."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    if sqlstate == _LOCK_NOT_AVAILABLE:
        reason = f"a row of {table.name} is held by another writer"
        note_run_again(db, reason)
        raise RunAgainWithLocks(reason) from None


@functools.lru_cache(maxsize=1024)
def _locked_columns(mapper: Any, keys: tuple[str, ...]) -> sa.Select[Any]:
    """SELECT the id and the columns of attributes ``keys`` of ``mapper``'s rows ``:ids``,
    FOR NO KEY UPDATE NOWAIT; built once per table and set of columns."""
    id_column = mapper.columns["id"]
    ids: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
    return (
        sa.select(id_column, *(mapper.columns[key] for key in keys))
        .where(id_column.in_(ids))
        .with_for_update(nowait=True, key_share=True)
    )
