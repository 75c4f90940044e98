"""Which rooms exist: a ``Room`` is one of settings.ROOMS (``rooms.load_rooms``) or a row of
``grove_room`` created over the admin API (``server/stored_rooms.py``). The lookups that need
no more than this live here, so that session creation and vars posts can check a room name
without importing the room arrivals of ``server/rooms.py`` (which import them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.config import Settings
from server.db import insert_for_dialect
from server.models.rooms import RoomState, StoredRoom


@dataclass(frozen=True)
class Room:
    """A room from settings.ROOMS or, with ``stored``, created over the admin API."""

    name: str
    display_name: str
    labels: frozenset[str] | None
    use_secure_urls: bool
    stored: bool = False
    # oTree 6's ``welcome_page``: a project template shown first (rooms made in settings.py)
    welcome_page: str | None = None

    @property
    def has_labels(self) -> bool:
        return self.labels is not None


def is_simple_name(name: object) -> bool:
    """A room name fit for a URL path: letters, digits, ``_`` and ``-`` (oTree's rooms)."""
    return isinstance(name, str) and name.replace("_", "").replace("-", "").isalnum()


def stored_room(row: StoredRoom) -> Room:
    """The ``Room`` of a ``grove_room`` row."""
    labels = row.participant_labels
    return Room(
        row.name,
        row.display_name,
        None if labels is None else frozenset(labels),
        row.use_secure_urls,
        stored=True,
    )


def find_stored_room(db: Session, settings_rooms: Mapping[str, Room], name: str) -> Room | None:
    """The room called ``name`` (settings first, then the database), inside a unit of work."""
    if name in settings_rooms:
        return settings_rooms[name]
    row = db.get(StoredRoom, name) if is_simple_name(name) else None
    return None if row is None else stored_room(row)


def is_settings_room(settings: Settings, name: str) -> bool:
    """Is ``name`` a room of settings.ROOMS (which no request can change or delete)?"""
    return any(room.get("name") == name for room in settings.rooms)


def room_is_defined(db: Session, settings: Settings, name: str) -> bool:
    """Is ``name`` a room of settings.ROOMS or a stored room? Inside a unit of work."""
    if is_settings_room(settings, name):
        return True
    # A query, not the identity map: read again under the room's lock, it must see a
    # deletion committed meanwhile (sessions.create_session).
    stored = sa.select(StoredRoom.name).where(StoredRoom.name == name)
    return is_simple_name(name) and db.scalar(stored) is not None


_ROOM_STATES: sa.Table = RoomState.__table__  # type: ignore[assignment]
_LOCKED_ROOM = (
    sa.select(_ROOM_STATES.c.room_name)
    .where(_ROOM_STATES.c.room_name == sa.bindparam("room"))
    .with_for_update()
)
# Per dialect name: the INSERT of a room's row that inserts nothing when it is there already.
_NEW_ROOM_ROWS: dict[str, sa.Insert] = {}


def _new_room_row(dialect_name: str) -> sa.Insert:
    statement = _NEW_ROOM_ROWS.get(dialect_name)
    if statement is None:
        statement = insert_for_dialect(dialect_name, _ROOM_STATES).on_conflict_do_nothing(
            index_elements=[_ROOM_STATES.c.room_name]
        )
        _NEW_ROOM_ROWS[dialect_name] = statement
    return statement


def lock_room(db: Session, room_name: str) -> None:
    """Row-lock the room's row, creating it the first time (two first callers make one row).

    On SQLite the transaction already holds the database's write lock. The statements are
    built once, as Core statements on the unit's connection: every vars post for a room label
    and every arrival takes this lock, and building an ORM select anew was about a fifth of
    a label's vars post on PostgreSQL (in process, cProfile). The caller takes the room's lock
    first in its unit of work (LOCK ORDER 0), so no change of the ORM session waits to be
    flushed before it.
    """
    connection = db.connection()
    if connection.execute(_LOCKED_ROOM, {"room": room_name}).first() is None:
        connection.execute(
            _new_room_row(connection.dialect.name),
            {"room_name": room_name, "closed_after_session_id": 0},
        )
        connection.execute(_LOCKED_ROOM, {"room": room_name}).one()
