"""Rooms created, changed and deleted over the admin API (rows of ``grove_room``).

settings.ROOMS stays the experimenter's file: a room defined there is read-only here (Conflict,
HTTP 409, saying so). A stored room is found by ``server.rooms.find_room`` as a settings room
is, so participants meet it the same way (its URL, its labels, its waiting page). A room is
changed or deleted only while it has no session (close it first, ``rooms.close_room``): the
labels of a session's participants must not change under them. No HTTP here.

Each change is one unit of work that locks the room's row first (LOCK ORDER step 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit_log import record_change
from server.db import Database
from server.errors import Conflict, InvalidArguments, RoomNotFound
from server.models.pending_vars import PendingParticipantVars
from server.models.rooms import RoomPresence, StoredRoom
from server.participant_vars import current_room_session, normalize_participant_label
from server.room_definitions import Room, find_stored_room, is_simple_name, lock_room
from server.storable_text import unstorable_character

MAX_ROOM_NAME = 100
MAX_DISPLAY_NAME = 255
MAX_LABELS = 10_000
CHANGEABLE = ("display_name", "participant_labels", "use_secure_urls")


def _checked_name(name: Any) -> str:
    if not is_simple_name(name) or len(name) > MAX_ROOM_NAME:
        raise InvalidArguments(
            f"name must be 1 to {MAX_ROOM_NAME} letters, digits, '_' or '-'", field="name"
        )
    return str(name)


def _checked_display_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DISPLAY_NAME:
        raise InvalidArguments(
            f"display_name must be a non-empty string of at most {MAX_DISPLAY_NAME} characters",
            field="display_name",
        )
    problem = unstorable_character(value)
    if problem is not None:
        raise InvalidArguments(f"display_name cannot contain {problem}", field="display_name")
    return value.strip()


def _checked_labels(value: Any) -> list[str] | None:
    """The labels normalized as a label file's lines are, duplicates dropped, in order."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or len(value) > MAX_LABELS:
        raise InvalidArguments(
            f"participant_labels must be null or a list of 1 to {MAX_LABELS} labels",
            field="participant_labels",
        )
    labels: dict[str, None] = {}
    for position, label in enumerate(value):
        try:
            labels[normalize_participant_label(label)] = None
        except InvalidArguments as exc:
            raise InvalidArguments(
                f"participant_labels[{position}]: {exc}", field="participant_labels"
            ) from None
    return list(labels)


def _check_secure(use_secure_urls: bool, labels: list[str] | None) -> None:
    if use_secure_urls and labels is None:
        raise InvalidArguments(
            "use_secure_urls needs participant_labels (each label gets its own signed link)",
            field="use_secure_urls",
        )


def _read_only(name: str) -> Conflict:
    return Conflict(
        f"room {name!r} is defined in settings.py (ROOMS) and is read-only here; "
        "change it in settings.py"
    )


def create_stored_room(
    database: Database,
    settings_rooms: Mapping[str, Room],
    name: Any,
    *,
    display_name: Any = None,
    participant_labels: Any = None,
    use_secure_urls: bool = False,
    who: str,
) -> Room:
    """Store a new room. ``display_name`` defaults to the name; ``participant_labels`` as a
    label file's lines (None: anyone may enter, no label asked); ``use_secure_urls`` as in
    settings.ROOMS (needs labels). Logged as ``room.create`` by ``who``. Raises
    InvalidArguments, Conflict (the name is taken, by a
    settings room or a stored one)."""
    name = _checked_name(name)
    display = name if display_name is None else _checked_display_name(display_name)
    labels = _checked_labels(participant_labels)
    _check_secure(bool(use_secure_urls), labels)
    if name in settings_rooms:
        raise Conflict(f"room {name!r} exists already (in settings.py)")

    def work(db: Session) -> None:
        lock_room(db, name)  # two creators of one name: the second finds the first's row
        if db.get(StoredRoom, name) is not None:
            raise Conflict(f"room {name!r} exists already")
        db.add(
            StoredRoom(
                name=name,
                display_name=display,
                participant_labels=labels,
                use_secure_urls=bool(use_secure_urls),
            )
        )
        record_change(
            db,
            who,
            "room.create",
            room=name,
            details={
                "display_name": display,
                "participant_labels": None if labels is None else len(labels),
                "use_secure_urls": bool(use_secure_urls),
            },
        )

    database.run(work)
    return Room(
        name, display, None if labels is None else frozenset(labels), bool(use_secure_urls), True
    )


def _locked_stored_room(db: Session, settings_rooms: Mapping[str, Room], name: str) -> StoredRoom:
    """Lock the room (step 0) and return its row, if it is a stored room without a session.
    Raises RoomNotFound, Conflict (a settings room, or a room with a session)."""
    if name in settings_rooms:
        raise _read_only(name)
    if not is_simple_name(name):
        raise RoomNotFound(f"no room named {name!r}")
    lock_room(db, name)
    row = db.get(StoredRoom, name)
    if row is None:
        raise RoomNotFound(f"no room named {name!r}")
    session = current_room_session(db, name)
    if session is not None:
        raise Conflict(
            f"room {name!r} has a session ({session.code}); close the room first "
            "(disassociate), then change it"
        )
    return row


def update_stored_room(
    database: Database,
    settings_rooms: Mapping[str, Room],
    name: str,
    changes: Mapping[str, Any],
    *,
    who: str,
) -> Room:
    """Change a stored room that has no session: any of CHANGEABLE in ``changes`` (checked as
    ``create_stored_room`` checks them); logged as ``room.update`` by ``who``. Raises
    InvalidArguments (an unknown or bad value), RoomNotFound, Conflict (a settings room; a
    room with a session)."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise InvalidArguments(f"cannot change {', '.join(unknown)}", field=unknown[0])
    checked: dict[str, Any] = {}
    if "display_name" in changes:
        checked["display_name"] = _checked_display_name(changes["display_name"])
    if "participant_labels" in changes:
        checked["participant_labels"] = _checked_labels(changes["participant_labels"])
    if "use_secure_urls" in changes:
        checked["use_secure_urls"] = bool(changes["use_secure_urls"])

    def work(db: Session) -> Room:
        row = _locked_stored_room(db, settings_rooms, name)
        labels = checked.get("participant_labels", row.participant_labels)
        _check_secure(checked.get("use_secure_urls", row.use_secure_urls), labels)
        for key, value in checked.items():
            setattr(row, key, value)
        db.flush()
        record_change(db, who, "room.update", room=name, details={"fields": sorted(checked)})
        room = find_stored_room(db, dict(settings_rooms), name)
        assert room is not None
        return room

    return database.run(work)


def delete_stored_room(
    database: Database, settings_rooms: Mapping[str, Room], name: str, *, who: str
) -> None:
    """Delete a stored room that has no session, with who was waiting in it and the vars
    posted for its labels that no participant took. Its past sessions stay (with their room
    name). Logged as ``room.delete`` by ``who``. Raises RoomNotFound, Conflict (a settings
    room; a room with a session)."""

    def work(db: Session) -> None:
        row = _locked_stored_room(db, settings_rooms, name)
        db.execute(sa.delete(RoomPresence).where(RoomPresence.room_name == name))
        db.execute(
            sa.delete(PendingParticipantVars).where(PendingParticipantVars.room_name == name)
        )
        db.delete(row)
        record_change(db, who, "room.delete", room=name)

    database.run(work)
