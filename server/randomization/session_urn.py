"""The urn of a session: which study a session randomizes in, and ``participant.randomize()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import InvalidArguments
from server.models.core import ExperimentSession, Participant
from server.participant_lookup import participant_with_label
from server.randomization.service import Randomization, ensure_study, randomize


def study_name_of(session: ExperimentSession) -> str | None:
    """The study a session randomizes in: ``urn['study']`` or the session's own code."""
    urn = session.config.get("urn")
    if not urn:
        return None
    return urn.get("study") or session.code


def prepare_session_study(db: Session, session: ExperimentSession) -> None:
    """Create (or check against its frozen config) the study of a new session."""
    name = study_name_of(session)
    if name is not None:
        ensure_study(db, name, session.config["urn"])


def participant_key(participant: Participant) -> str:
    """How a participant is identified in the study's log: its label, else its code."""
    return participant.label or participant.code


def randomize_participant(
    db: Session, participant: Participant, levels: Mapping[str, Any], user: str | None = None
) -> Randomization:
    """Randomize a participant once; levels come from kwargs, else from participant.vars."""
    session = participant.session
    name = study_name_of(session)
    if name is None:
        raise InvalidArguments(
            f"session config {session.config_name!r} has no urn configuration", field="urn"
        )
    factors = session.config["urn"].get("factors", {})
    chosen = {
        factor: levels[factor] if factor in levels else (participant.vars or {}).get(factor)
        for factor in factors
    }
    chosen.update({k: v for k, v in levels.items() if k not in factors})
    result = randomize(
        db,
        name,
        participant_key(participant),
        chosen,
        user=user,
        participant_id=participant.id,
        allow_existing=True,
    )
    participant.vars = {**(participant.vars or {}), "treatment": result.treatment}
    return result


def participant_for_key(db: Session, study_name: str, key: str) -> Participant | None:
    """The participant labelled ``key`` in a session of this study, if there is one."""
    # One query when the study is a session's own code (the session, and the participant if
    # any): this runs in every draw of the urn API, inside the write lock.
    named = db.execute(
        sa.select(ExperimentSession.id, Participant)
        .outerjoin(
            Participant,
            sa.and_(Participant.session_id == ExperimentSession.id, Participant.label == key),
        )
        .where(ExperimentSession.code == study_name)
        .limit(1)
    ).first()
    if named is not None:
        return named[1]
    candidates = [
        s
        for s in db.scalars(
            sa.select(ExperimentSession).order_by(ExperimentSession.id.desc()).limit(500)
        )
        if study_name_of(s) == study_name
    ]
    for session in candidates:
        participant = participant_with_label(db, session.id, key)
        if participant is not None:
            return participant
    return None
