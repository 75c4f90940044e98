"""The declarative base of Grove's own tables, and JSON change tracking for ``vars``."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Session, attributes

from server.typed_json import encode


class Base(DeclarativeBase):
    """Base class of Grove's fixed tables."""


def stored_json(value: Any, where: str = "value") -> str:
    """``value`` as the JSON text it is stored as, keys sorted: what decides whether a JSON
    column changed, so that (1, 2) replacing [1, 2], or True replacing 1 (equal in Python),
    is a change too. UnstorableValue, naming ``where`` and the key, for what cannot be
    stored."""
    if type(value) is dict and not value:
        return "{}"  # most rows' vars: the same text without encoding (a page GET asks 6 times)
    return json.dumps(encode(value, where), sort_keys=True)


def _column_name(target: Any, name: str) -> str:
    return f"{getattr(target, '_object_name', '') or type(target).__name__}.{name}"


class TracksJsonVars:
    """Mixin for rows with a JSON ``vars`` column that experimenters mutate in place.

    ``participant.vars['x'] = 1`` changes the dict without telling SQLAlchemy; before each flush
    we compare with the snapshot taken at load and mark the column changed if needed.
    """

    _json_columns: tuple[str, ...] = ("vars",)


# Instance dict key: {column: stored JSON text as loaded} of the JSON columns changed in place
# since the row was loaded (``flag_changed_json``).
LOADED_JSON = "_grove_json_loaded"


def _store_snapshot(target: Any) -> None:
    target.__dict__.pop(LOADED_JSON, None)
    target.__dict__["_grove_json_snapshots"] = {
        name: stored_json(target.__dict__.get(name)) for name in target._json_columns
    }


@event.listens_for(Base, "load", propagate=True)
@event.listens_for(Base, "refresh", propagate=True)
def _take_snapshot(target: Any, *_args: Any) -> None:
    if isinstance(target, TracksJsonVars):
        _store_snapshot(target)


@event.listens_for(Session, "loaded_as_persistent")
@event.listens_for(Session, "pending_to_persistent")
def _keep_json_rows(session: Session, instance: Any) -> None:
    # The session holds clean rows only weakly: a participant reached through a temporary
    # (``for p in session.get_participants(): p.vars["x"] = 1``) would be garbage collected
    # before the flush that saves its in-place change. Rows with JSON vars are kept alive for
    # the unit of work.
    if isinstance(instance, TracksJsonVars):
        session.info.setdefault("grove_json_rows", {})[id(instance)] = instance


@event.listens_for(Session, "after_flush_postexec")
def _snapshot_after_flush(session: Session, _context: Any) -> None:
    # Rows inserted in this unit of work were never loaded: give them a snapshot too, so
    # that later in-place changes (mock_exogenous_data, creating_session) are saved. Rows
    # that have one are current: the flush's flag_changed_json brought it up to date.
    for target in list(session.identity_map.values()):
        if isinstance(target, TracksJsonVars) and "_grove_json_snapshots" not in target.__dict__:
            _store_snapshot(target)


@event.listens_for(Session, "before_commit")
def _flag_before_commit(session: Session) -> None:
    # A flush with nothing marked dirty is skipped entirely, so check before committing too;
    # with something pending the commit's flush runs flag_changed_json (before_flush) itself.
    if session._is_clean():  # what the commit checks before it flushes
        flag_changed_json(session)


@event.listens_for(Session, "before_flush")
def flag_changed_json(session: Session, *_args: Any) -> None:
    """Mark JSON columns changed in place (``participant.vars["x"] = 1``) as modified."""
    for target in list(session.identity_map.values()):
        if not isinstance(target, TracksJsonVars):
            continue
        snapshots = target.__dict__.get("_grove_json_snapshots")
        if snapshots is None:
            continue
        for name in target._json_columns:
            where = _column_name(target, name)
            if (
                name in target.__dict__
                and stored_json(target.__dict__[name], where) != snapshots[name]
            ):
                attributes.flag_modified(target, name)
                # The value as loaded, for server/unlocked_writes.py (flag_modified keeps none).
                target.__dict__.setdefault(LOADED_JSON, {}).setdefault(name, snapshots[name])
                snapshots[name] = stored_json(target.__dict__[name], where)
