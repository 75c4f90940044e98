"""Setting participant and session vars from outside (REST, Qualtrics), keyed by room + label.

Vars posted for a label whose participant has not arrived yet are kept in
``grove_pending_vars`` and applied (with the label) when that participant arrives.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import InvalidArguments, RoomNotFound, SessionNotFound
from server.models.core import ExperimentSession, Participant
from server.models.pending_vars import PendingParticipantVars
from server.project import Project


def check_vars(value: Any) -> dict[str, Any]:
    """``vars`` must be a JSON object; InvalidArguments otherwise."""
    if not isinstance(value, dict):
        raise InvalidArguments("vars must be an object (dict)", field="vars")
    return value


def check_room(project: Project, room_name: Any) -> str:
    """The room name if the project defines that room; RoomNotFound otherwise."""
    if not isinstance(room_name, str) or not room_name:
        raise InvalidArguments("room_name must be a non-empty string", field="room_name")
    if room_name not in {room.get("name") for room in project.settings.rooms}:
        raise RoomNotFound(f"no room named {room_name!r}")
    return room_name


def current_room_session(
    db: Session, room_name: str, *, for_update: bool = False
) -> ExperimentSession | None:
    """The newest session created in the room since it was last closed, if any."""
    from server.models.rooms import RoomState

    # One query: the room's close marker is a subquery (this runs on every Qualtrics post).
    closed_after = (
        sa.select(RoomState.closed_after_session_id)
        .where(RoomState.room_name == room_name)
        .scalar_subquery()
    )
    query = (
        sa.select(ExperimentSession)
        .where(
            ExperimentSession.room_name == room_name,
            ExperimentSession.id > sa.func.coalesce(closed_after, 0),
        )
        .order_by(ExperimentSession.id.desc())
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    return db.scalars(query).first()


def set_participant_vars_by_label(
    db: Session,
    project: Project,
    room_name: Any,
    label: Any,
    new_vars: Any,
    *,
    user: str | None = None,
) -> Participant | None:
    """Merge vars into the labelled participant of the room's session, or keep them pending.

    Returns the participant when it exists, None when the vars were stored for later.
    """
    room = check_room(project, room_name)
    if not isinstance(label, str) or not label:
        raise InvalidArguments(
            "participant_label must be a non-empty string", field="participant_label"
        )
    values = check_vars(new_vars)
    session = current_room_session(db, room)
    if session is not None:
        participant = db.scalars(
            sa.select(Participant)
            .where(Participant.session_id == session.id, Participant.label == label)
            .with_for_update()
        ).first()
        if participant is not None:
            participant.vars = {**(participant.vars or {}), **values}
            return participant
    pending = db.scalars(
        sa.select(PendingParticipantVars)
        .where(PendingParticipantVars.room_name == room, PendingParticipantVars.label == label)
        .with_for_update()
    ).first()
    if pending is None:
        db.add(PendingParticipantVars(room_name=room, label=label, vars=values, updated_by=user))
    else:
        pending.vars = {**(pending.vars or {}), **values}
        pending.updated_by = user
    db.flush()
    return None


def apply_pending_vars(db: Session, participant: Participant, room_name: str, label: str) -> None:
    """On arrival in a room: set the label and merge (then drop) any pending vars."""
    participant.label = label
    pending = db.scalars(
        sa.select(PendingParticipantVars).where(
            PendingParticipantVars.room_name == room_name, PendingParticipantVars.label == label
        )
    ).first()
    if pending is not None:
        participant.vars = {**(participant.vars or {}), **(pending.vars or {})}
        db.delete(pending)
        db.flush()


def set_participant_vars_by_code(db: Session, code: Any, new_vars: Any) -> Participant:
    """Merge vars into the participant with this code; ParticipantNotFound if none."""
    from server.sessions import get_participant

    values = check_vars(new_vars)
    if not isinstance(code, str):
        raise InvalidArguments("participant code must be a string", field="code")
    participant = get_participant(db, code, for_update=True)
    participant.vars = {**(participant.vars or {}), **values}
    return participant


def set_session_vars_by_room(
    db: Session, project: Project, room_name: Any, new_vars: Any
) -> ExperimentSession:
    """Merge vars into the room's current session; SessionNotFound if the room has none."""
    room = check_room(project, room_name)
    values = check_vars(new_vars)
    session = current_room_session(db, room, for_update=True)
    if session is None:
        raise SessionNotFound(f"room {room!r} has no session")
    session.vars = {**(session.vars or {}), **values}
    return session


def set_session_vars_by_code(db: Session, code: Any, new_vars: Any) -> ExperimentSession:
    """Merge vars into the session with this code; SessionNotFound if none."""
    from server.sessions import get_session

    values = check_vars(new_vars)
    if not isinstance(code, str):
        raise InvalidArguments("session code must be a string", field="code")
    session = get_session(db, code, for_update=True)
    session.vars = {**(session.vars or {}), **values}
    return session
