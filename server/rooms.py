"""Rooms: label files, signed links, arrivals, waiting and closing. No HTTP here.

An arrival is one write transaction that locks the room's session row, so two people never
get the same participant and one label always gets the same one, whichever worker serves
them; the unique constraint (session, label) on participants backs this up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from itsdangerous import Signer
from sqlalchemy.orm import Session

from server.config import Settings
from server.errors import ConfigurationError, InvalidArguments, RoomNotFound, SessionFull
from server.models.core import ExperimentSession, Participant, utcnow
from server.models.rooms import RoomPresence, RoomState
from server.participant_vars import apply_pending_vars, current_room_session

WAITING_SECONDS = 15


@dataclass(frozen=True)
class Room:
    """A room from settings.ROOMS."""

    name: str
    display_name: str
    labels: frozenset[str] | None
    use_secure_urls: bool

    @property
    def has_labels(self) -> bool:
        return self.labels is not None


def _read_label_file(settings: Settings, name: str, relative: str) -> frozenset[str]:
    rooms_dir = (settings.root / "rooms").resolve()
    path = (settings.root / relative).resolve()
    if rooms_dir not in path.parents:
        raise ConfigurationError(
            f"settings.py: ROOMS {name!r}: participant_label_file {relative!r} "
            "must be inside rooms/"
        )
    if not path.is_file():
        raise ConfigurationError(f"settings.py: ROOMS {name!r}: {relative!r} not found")
    labels = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return frozenset(label for label in labels if label)


def load_rooms(settings: Settings) -> dict[str, Room]:
    """Every room of the settings, with its labels; ConfigurationError on a bad entry."""
    rooms: dict[str, Room] = {}
    for raw in settings.rooms:
        name = raw.get("name")
        if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
            raise ConfigurationError(f"settings.py: ROOMS entry {raw!r} needs a simple 'name'")
        label_file = raw.get("participant_label_file")
        labels = _read_label_file(settings, name, label_file) if label_file else None
        secure = bool(raw.get("use_secure_urls", False))
        if secure and labels is None:
            raise ConfigurationError(
                f"settings.py: ROOMS {name!r}: use_secure_urls needs a participant_label_file"
            )
        rooms[name] = Room(name, str(raw.get("display_name", name)), labels, secure)
    return rooms


def _signer(settings: Settings) -> Signer:
    return Signer(settings.secret_key, salt="grove-room-label")


def label_signature(settings: Settings, room: Room, label: str) -> str:
    """The signature a secure room's link carries for a label."""
    return _signer(settings).get_signature(f"{room.name}:{label}").decode()


def check_label(settings: Settings, room: Room, label: str, signature: str | None) -> None:
    """InvalidArguments if the label is not allowed in the room (or its link is unsigned)."""
    if room.labels is not None and label not in room.labels:
        raise InvalidArguments(
            f"{label!r} is not a participant label of this room", field="participant_label"
        )
    if room.use_secure_urls:
        value = f"{room.name}:{label}".encode()
        if not signature or not _signer(settings).verify_signature(value, signature.encode()):
            raise InvalidArguments("this room needs the personal link you were given", field="hash")


def get_room(rooms: dict[str, Room], name: str) -> Room:
    """The room called ``name``; RoomNotFound otherwise."""
    try:
        return rooms[name]
    except KeyError:
        raise RoomNotFound(f"no room named {name!r}") from None


@dataclass(frozen=True)
class Arrival:
    """Where an arrival leads: a participant, or waiting for a session."""

    participant_code: str | None
    waiting: bool


def arrive(db: Session, room: Room, *, label: str | None, browser_token: str) -> Arrival:
    """Give the visitor their participant of the room's session, or note them as waiting.

    Raises SessionFull when every participant has been handed out.
    """
    session = current_room_session(db, room.name, for_update=True)
    visitor = f"label:{label}" if label else f"browser:{browser_token}"
    if session is None:
        _mark_present(db, room.name, visitor)
        return Arrival(None, waiting=True)
    if label:
        mine = db.scalars(
            sa.select(Participant).where(
                Participant.session_id == session.id, Participant.label == label
            )
        ).first()
    else:
        mine = db.scalars(
            sa.select(Participant).where(
                Participant.session_id == session.id, Participant.browser_token == browser_token
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
    return Arrival(mine.code, waiting=False)


def _mark_present(db: Session, room_name: str, visitor: str) -> None:
    row = db.scalars(
        sa.select(RoomPresence).where(
            RoomPresence.room_name == room_name, RoomPresence.visitor == visitor
        )
    ).first()
    if row is None:
        db.add(RoomPresence(room_name=room_name, visitor=visitor, last_seen=utcnow()))
    else:
        row.last_seen = utcnow()
    db.flush()


def waiting_count(db: Session, room_name: str) -> int:
    """How many visitors were seen waiting in the room in the last few seconds."""
    since = utcnow() - dt.timedelta(seconds=WAITING_SECONDS)
    return (
        db.scalar(
            sa.select(sa.func.count(RoomPresence.id)).where(
                RoomPresence.room_name == room_name, RoomPresence.last_seen >= since
            )
        )
        or 0
    )


def waiting_visitors(db: Session, room_name: str) -> list[str]:
    """The labels (or 'anonymous') of the visitors waiting now."""
    since = utcnow() - dt.timedelta(seconds=WAITING_SECONDS)
    rows = db.scalars(
        sa.select(RoomPresence.visitor).where(
            RoomPresence.room_name == room_name, RoomPresence.last_seen >= since
        )
    )
    return [v.split(":", 1)[1] if v.startswith("label:") else "anonymous" for v in rows]


def room_has_session(db: Session, room_name: str) -> bool:
    """Is there a session the room's visitors can join?"""
    return current_room_session(db, room_name) is not None


def close_room(db: Session, room: Room) -> None:
    """Detach the room's current session: new visitors wait for the next one."""
    newest = db.scalar(sa.select(sa.func.max(ExperimentSession.id))) or 0
    state = db.get(RoomState, room.name)
    if state is None:
        db.add(RoomState(room_name=room.name, closed_after_session_id=newest))
    else:
        state.closed_after_session_id = newest
    db.execute(sa.delete(RoomPresence).where(RoomPresence.room_name == room.name))
