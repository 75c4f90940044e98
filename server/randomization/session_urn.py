"""The urn of a session: which study a session randomizes in, and ``participant.randomize()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import InvalidArguments
from server.models.core import ExperimentSession, Participant
from server.randomization.service import Randomization, ensure_study, randomize


def study_name_of(session: ExperimentSession) -> str | None:
    """The study a session randomizes in: ``urn['study']`` or the session's own code."""
    return urn_study_of(session.config, session.code)


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


_SESSION = cast(sa.Table, ExperimentSession.__table__)
_PARTICIPANT = cast(sa.Table, Participant.__table__)
# Participants labelled :label, with their session's code and config, newest session first.
_LABELLED = (
    sa.select(_PARTICIPANT.c.code, _SESSION.c.code, _SESSION.c.config)
    .join(_SESSION, _PARTICIPANT.c.session_id == _SESSION.c.id)
    .where(_PARTICIPANT.c.label == sa.bindparam("label"))
    .order_by(_SESSION.c.id.desc())
)


def urn_study_of(config: Mapping[str, Any], session_code: str) -> str | None:
    """:func:`study_name_of` from a session's config and code (a row, no ORM object)."""
    urn = config.get("urn")
    if not urn:
        return None
    return urn.get("study") or session_code


def labelled_participant_code(db: Session, study_name: str, key: str) -> str | None:
    """The code of the participant labelled ``key`` in a session of this study (the newest
    such session), or None.

    One query over the participants with that label (a label names at most one participant
    of a session), whatever the number of sessions.
    """
    for code, session_code, config in db.connection().execute(_LABELLED, {"label": key}):
        if urn_study_of(config or {}, session_code) == study_name:
            return str(code)
    return None
