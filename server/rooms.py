"""Rooms: label files, signed links, arrivals, waiting and closing. No HTTP here.

A room is defined in settings.ROOMS (read-only: changing it means editing settings.py) or
created over the admin API (a ``grove_room`` row: ``create_stored_room`` and friends, which
every worker sees at once). Both kinds behave the same for participants; ``find_room`` and
``all_rooms`` are how the rest of Grove looks them up (``server/room_definitions.py`` holds the
``Room`` and the checks that session creation and vars posts make without the rest of this).

An arrival is one unit of work that locks the room's row and then its session's row, so two
people never get the same participant and one label always gets the same one, whichever worker
serves them (the unique constraint (session, label) on participants backs this up). Vars posted
for a label take the same room lock (``server.participant_vars``), so they reach the
participant whether they come before, during or after its arrival.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from itsdangerous import Signer
from sqlalchemy.orm import Session

from server.audit_log import record_change
from server.config import Settings
from server.db import Database, dialect_insert
from server.errors import (
    ConfigurationError,
    InvalidArguments,
    RoomNotFound,
    SessionFull,
)
from server.models.core import ExperimentSession, Participant, utcnow
from server.models.rooms import RoomPresence, RoomState, StoredRoom
from server.participant_lookup import participant_with_label
from server.participant_vars import (
    apply_pending_vars,
    current_room_session,
    normalize_participant_label,
    optional_participant_label,
)
from server.room_channel import publish_room_change
from server.room_definitions import Room, find_stored_room, is_simple_name, lock_room, stored_room

# A waiting page's status request is held until the room's session changes, and at most
# ROOM_HOLD_SECONDS (its heartbeat: each request keeps the visitor's "last seen" fresh);
# "last seen" is written at most every PRESENCE_REFRESH_SECONDS; a visitor seen within
# WAITING_SECONDS counts as waiting (two heartbeats, and a refresh, fit in it).
ROOM_HOLD_SECONDS = 10
PRESENCE_REFRESH_SECONDS = 5
WAITING_SECONDS = 25


# Where label files may be: oTree's folder and Grove's, at the project root.
LABEL_FOLDERS = ("_rooms", "rooms")


def _read_label_file(settings: Settings, name: str, relative: str) -> frozenset[str]:
    path = (settings.root / relative).resolve()  # resolved: a symlink cannot lead out
    folders = [(settings.root / folder).resolve() for folder in LABEL_FOLDERS]
    if not any(folder in path.parents for folder in folders):
        raise ConfigurationError(
            f"settings.py: ROOMS {name!r}: participant_label_file {relative!r} "
            "must be inside _rooms/ or rooms/"
        )
    if not path.is_file():
        raise ConfigurationError(f"settings.py: ROOMS {name!r}: {relative!r} not found")
    labels = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            labels.add(normalize_participant_label(line))
        except InvalidArguments as exc:
            raise ConfigurationError(f"{relative}, line {number}: {exc}") from None
    return frozenset(labels)


def load_rooms(settings: Settings) -> dict[str, Room]:
    """Every room of the settings, with its labels; ConfigurationError on a bad entry."""
    rooms: dict[str, Room] = {}
    for raw in settings.rooms:
        name = raw.get("name")
        if not isinstance(name, str) or not is_simple_name(name):
            raise ConfigurationError(f"settings.py: ROOMS entry {raw!r} needs a simple 'name'")
        label_file = raw.get("participant_label_file")
        labels = _read_label_file(settings, name, label_file) if label_file else None
        secure = bool(raw.get("use_secure_urls", False))
        if secure and labels is None:
            raise ConfigurationError(
                f"settings.py: ROOMS {name!r}: use_secure_urls needs a participant_label_file"
            )
        welcome_page = _welcome_page(settings, name, raw.get("welcome_page"))
        rooms[name] = Room(
            name, str(raw.get("display_name", name)), labels, secure, welcome_page=welcome_page
        )
    return rooms


def _welcome_page(settings: Settings, name: str, relative: object) -> str | None:
    """A room's ``welcome_page`` (oTree 6: a template path from the project root), checked."""
    if relative is None:
        return None
    if not isinstance(relative, str) or not relative.strip():
        raise ConfigurationError(f"settings.py: ROOMS {name!r}: welcome_page must be a file path")
    root = settings.root.resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        raise ConfigurationError(
            f"settings.py: ROOMS {name!r}: welcome_page {relative!r} not found in the project"
        )
    return path.relative_to(root).as_posix()


# oTree 6.0.15's words for a welcome page's label check (``validate_room_visitor``).
NO_LABEL = "Please enter a participant label"
LABEL_NOT_FOUND = "This participant label was not found"
UNSIGNED_LINK = (
    "Invalid hash parameter. use_secure_urls is True, so you must use the participant-specific URL."
)


def visitor_errors(settings: Settings, room: Room, values: Mapping[str, object]) -> dict[str, str]:
    """oTree 6's check of a room visitor before a seat, as a welcome page asks for it (a JSON
    POST to the room's URL): ``{field: message}``, empty when the visitor may go on. Seats
    nobody. A room without labels lets everyone on."""
    if not room.has_labels:
        return {}
    label, signature = values.get("participant_label"), values.get("hash")
    if not label:
        return {"participant_label": NO_LABEL}
    if not isinstance(label, str):
        return {"participant_label": LABEL_NOT_FOUND}
    try:
        check_label(settings, room, label, signature if isinstance(signature, str) else None)
    except InvalidArguments as exc:
        if exc.field == "hash":
            return {"hash": UNSIGNED_LINK}
        return {"participant_label": LABEL_NOT_FOUND}
    return {}


def _signer(settings: Settings) -> Signer:
    return Signer(settings.secret_key, salt="grove-room-label")


def label_signature(settings: Settings, room: Room, label: str) -> str:
    """The signature a secure room's link carries for a label."""
    return _signer(settings).get_signature(f"{room.name}:{label}").decode()


def check_label(settings: Settings, room: Room, label: str, signature: str | None) -> None:
    """InvalidArguments if the label is not allowed in the room (or its link is unsigned).

    The label is normalized first, as the label file's lines were, so "alice " is "alice".
    """
    label = normalize_participant_label(label)
    if room.labels is not None and label not in room.labels:  # a stored room's are normalized
        raise InvalidArguments(
            f"{label!r} is not a participant label of this room", field="participant_label"
        )
    if room.use_secure_urls:
        value = f"{room.name}:{label}".encode()
        if not signature or not _signer(settings).verify_signature(value, signature.encode()):
            raise InvalidArguments("this room needs the personal link you were given", field="hash")


def find_room(database: Database, settings_rooms: dict[str, Room], name: str) -> Room:
    """The room called ``name``: one of ``settings_rooms`` (``load_rooms``) or one stored in
    the database. Raises RoomNotFound."""
    room = settings_rooms.get(name)
    if room is None:
        with database.read() as db:
            room = find_stored_room(db, settings_rooms, name)
    if room is None:
        raise RoomNotFound(f"no room named {name!r}")
    return room


def all_rooms(database: Database, settings_rooms: dict[str, Room]) -> list[Room]:
    """The settings' rooms in their order, then the stored ones by name."""
    with database.read() as db:
        rows = db.scalars(sa.select(StoredRoom).order_by(StoredRoom.name)).all()
        return [
            *settings_rooms.values(),
            *(stored_room(r) for r in rows if r.name not in settings_rooms),
        ]


@dataclass(frozen=True)
class Arrival:
    """Where an arrival leads: a participant, or waiting (with how many wait) for a session."""

    participant_code: str | None
    waiting: int = 0


@dataclass(frozen=True)
class RoomStatus:
    """What a waiting page polls: is there a session to join; how many wait; is this visitor
    on the waiting list (False after the room was closed: their page arrives again)."""

    ready: bool
    waiting: int
    listed: bool = False


@dataclass(frozen=True)
class RoomOverview:
    """A room as the admins' rooms page shows it."""

    room: Room
    waiting: list[str]
    session_code: str | None

    @property
    def has_session(self) -> bool:
        return self.session_code is not None


def _visitor(label: str | None, browser_token: str) -> str:
    return f"label:{label}" if label else f"browser:{browser_token}"


def join_room(database: Database, room: Room, *, label: str | None, browser_token: str) -> Arrival:
    """Give the visitor their participant of the room's session, or note them as waiting.

    The label is normalized (``optional_participant_label``; a blank one is no label), as vars
    posted for it are. Locks the room, its session, the participant handed out, then pending
    vars and presence. Raises InvalidArguments for a label the database cannot store,
    SessionFull when every participant has been handed out.
    """
    label = optional_participant_label(label)

    def work(db: Session) -> Arrival:
        lock_room(db, room.name)
        session = current_room_session(db, room.name, for_update=True)
        visitor = _visitor(label, browser_token)
        if session is None:
            _mark_present(db, room.name, visitor)
            return Arrival(None, waiting=_waiting_count(db, room.name))
        if label:
            mine = participant_with_label(db, session.id, label)
        else:
            mine = db.scalars(
                sa.select(Participant).where(
                    Participant.session_id == session.id,
                    Participant.browser_token == browser_token,
                )
            ).first()
        if mine is None:
            mine = db.scalars(
                sa.select(Participant)
                .where(
                    Participant.session_id == session.id,
                    Participant.label.is_(None),
                    Participant.browser_token.is_(None),
                    Participant.visited.is_(False),
                )
                .order_by(Participant.id_in_session)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if mine is None:
                raise SessionFull(f"the session in room {room.name!r} is full")
            mine.browser_token = browser_token
            if label:
                apply_pending_vars(db, mine, room.name, label)
            db.flush()
        db.execute(
            sa.delete(RoomPresence).where(
                RoomPresence.room_name == room.name, RoomPresence.visitor == visitor
            )
        )
        return Arrival(mine.code)

    return database.run(work)


def _mark_present(db: Session, room_name: str, visitor: str) -> None:
    # One statement, so a status poll and a join of the same visitor never both insert.
    now = utcnow()
    db.execute(
        dialect_insert(db, RoomPresence)
        .values(room_name=room_name, visitor=visitor, last_seen=now)
        .on_conflict_do_update(index_elements=["room_name", "visitor"], set_={"last_seen": now})
    )


def _waiting_count(db: Session, room_name: str) -> int:
    since = utcnow() - dt.timedelta(seconds=WAITING_SECONDS)
    return (
        db.scalar(
            sa.select(sa.func.count(RoomPresence.id)).where(
                RoomPresence.room_name == room_name, RoomPresence.last_seen >= since
            )
        )
        or 0
    )


def _waiting_visitors(db: Session, room_name: str) -> list[str]:
    since = utcnow() - dt.timedelta(seconds=WAITING_SECONDS)
    rows = db.scalars(
        sa.select(RoomPresence.visitor).where(
            RoomPresence.room_name == room_name, RoomPresence.last_seen >= since
        )
    )
    return [v.split(":", 1)[1] if v.startswith("label:") else "anonymous" for v in rows]


def room_status(
    database: Database, room: Room, *, label: str | None, browser_token: str | None
) -> RoomStatus:
    """Is there a session to join; how many were seen waiting in the last few seconds.

    Only an arrival (``join_room``, after the label file and the signature were checked)
    notes a visitor as waiting; a poll only keeps an existing entry fresh, writing its
    ``last_seen`` at most every PRESENCE_REFRESH_SECONDS (a read otherwise). The label is
    normalized as ``join_room`` does. Raises InvalidArguments for a label the database
    cannot store.
    """
    label = optional_participant_label(label)
    visitor = _visitor(label, browser_token or "") if (label or browser_token) else None
    stale_before = utcnow() - dt.timedelta(seconds=PRESENCE_REFRESH_SECONDS)
    mine = (RoomPresence.room_name == room.name, RoomPresence.visitor == visitor)
    with database.read() as db:
        ready = current_room_session(db, room.name) is not None
        # None: not on the waiting list; else whether its "last seen" is stale.
        stale = (
            None
            if visitor is None
            else db.scalar(sa.select(RoomPresence.last_seen < stale_before).where(*mine))
        )
        waiting = _waiting_count(db, room.name)
    if stale and not ready:
        database.run(
            lambda db: db.execute(
                sa.update(RoomPresence)
                .where(*mine, RoomPresence.last_seen < stale_before)
                .values(last_seen=utcnow())
            )
        )
    return RoomStatus(ready, waiting, listed=stale is not None)


def rooms_overview(database: Database, rooms: list[Room]) -> list[RoomOverview]:
    """Who waits in each room (labels, "anonymous" for a visitor without one) and the code of
    its current session (None while it has none), in one read."""
    with database.read() as db:
        return [
            RoomOverview(
                room,
                _waiting_visitors(db, room.name),
                getattr(current_room_session(db, room.name), "code", None),
            )
            for room in rooms
        ]


def room_session_codes(database: Database, rooms: list[Room]) -> dict[str, str | None]:
    """Each room's current session code (None while it has none), in one read."""
    with database.read() as db:
        codes: dict[str, str | None] = {}
        for room in rooms:
            session = current_room_session(db, room.name)
            codes[room.name] = session.code if session is not None else None
        return codes


def close_room(database: Database, room: Room, *, who: str) -> None:
    """Detach the room's current session: new visitors wait for the next one. The room's
    waiting pages are told (they put their visitors on the waiting list again). Logged as
    ``room.close`` by ``who``, with the session it had."""

    def work(db: Session) -> None:
        lock_room(db, room.name)
        current = current_room_session(db, room.name)
        record_change(
            db, who, "room.close", room=room.name, session=current.code if current else None
        )
        newest = db.scalar(sa.select(sa.func.max(ExperimentSession.id))) or 0
        db.execute(
            sa.update(RoomState)
            .where(RoomState.room_name == room.name)
            .values(closed_after_session_id=newest)
        )
        db.execute(sa.delete(RoomPresence).where(RoomPresence.room_name == room.name))
        publish_room_change(db, room.name)

    database.run(work)
