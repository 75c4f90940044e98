"""The urn's use cases as its APIs call them, each its own unit of work.

- ``study_config`` and ``study_assignments``: the reference API's GETs (read only);
- ``randomize_by_key``: the reference API's ``POST /study_participants`` (``id`` is the
  participant's label, or any key for someone outside Grove);
- ``randomize_in_session``: ``POST /api/sessions/<code>/randomize``.

``study`` is a study name or the code of a session that randomizes in one; ``defined`` is
settings.py's URN_STUDIES (``Settings.urn_studies``), whose studies answer before their first
use and are stored at their first draw (``server/randomization/studies.py``). The study is
looked up once per unit of work. Draws lock the study's state row (LOCK ORDER step 4 in
``server/db.py``) after the participant's row (step 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import Database
from server.errors import InvalidArguments, ParticipantNotFound
from server.models.core import ExperimentSession, Participant
from server.models.urn import UrnStudy
from server.participant_lookup import participant_with_label
from server.participant_vars import participant_label_key
from server.randomization.api_views import assignment_row, study_config_view, study_log
from server.randomization.service import StudyNotFound, get_study, randomize
from server.randomization.session_urn import (
    labelled_participant_code,
    randomize_participant,
    study_name_of,
)
from server.randomization.studies import (
    DefinedStudies,
    find_study,
    study_for_draw,
    unused_config_view,
)
from server.sessions import get_participant, get_session


def resolve_study(db: Session, name: Any) -> UrnStudy:
    """The study named ``name``, or the study of the session with that code.

    Raises InvalidArguments (no name), StudyNotFound.
    """
    if not isinstance(name, str) or not name:
        raise InvalidArguments("Missing study name", field="study")
    try:
        return get_study(db, name)
    except StudyNotFound:
        session = db.scalars(
            sa.select(ExperimentSession).where(ExperimentSession.code == name)
        ).first()
        study = study_name_of(session) if session is not None else None
        if study is None:
            raise
        return get_study(db, study)


_STUDY = cast(sa.Table, UrnStudy.__table__)
_SESSION = cast(sa.Table, ExperimentSession.__table__)
_PARTICIPANT = cast(sa.Table, Participant.__table__)
# One statement before a draw's locks: is :study a stored study's name; is it a session's
# code; and the code of that session's participant labelled :key. No row is locked: the
# participant (LOCK ORDER step 3) and then the study's state (step 4) are locked afterwards.
_DRAW_TARGET = sa.select(
    sa.select(_STUDY.c.id)
    .where(_STUDY.c.name == sa.bindparam("study"))
    .scalar_subquery()
    .label("study_id"),
    sa.select(_SESSION.c.id)
    .where(_SESSION.c.code == sa.bindparam("study"))
    .scalar_subquery()
    .label("session_id"),
    sa.select(_PARTICIPANT.c.code)
    .join(_SESSION, _PARTICIPANT.c.session_id == _SESSION.c.id)
    .where(_SESSION.c.code == sa.bindparam("study"), _PARTICIPANT.c.label == sa.bindparam("key"))
    .scalar_subquery()
    .label("participant_code"),
)


def _draw_target(db: Session, study: Any, key: str) -> tuple[str, str | None]:
    """The name of the study a draw for ``study`` goes to, and the code of the participant
    labelled ``key`` there (in the session whose code is the study's name, else in the newest
    session of the study with such a participant), or None.

    Raises InvalidArguments (no name), StudyNotFound.
    """
    if not isinstance(study, str) or not study:
        raise InvalidArguments("Missing study name", field="study")
    found = db.connection().execute(_DRAW_TARGET, {"study": study, "key": key}).one()
    if found.study_id is None:  # a session's code, whose study has another name
        name = resolve_study(db, study).name
    elif found.session_id is not None:
        return study, found.participant_code
    else:
        name = study
    return name, labelled_participant_code(db, name, key)


def _resolve_or_unused(db: Session, study: Any, defined: DefinedStudies) -> UrnStudy | None:
    # A settings study nobody has used yet has no row: None.
    if isinstance(study, str) and study in defined:
        return find_study(db, defined, study)
    return resolve_study(db, study)


def study_config(
    database: Database, study: Any, defined: DefinedStudies, *, show_seed: bool = False
) -> dict[str, Any]:
    """The study's configuration as the reference API shows it; the seed only if
    ``show_seed`` (admins), and None for a settings study with no draw yet."""
    with database.read() as db:
        row = _resolve_or_unused(db, study, defined)
        if row is None:
            return unused_config_view(defined, study)
        return study_config_view(row, show_seed=show_seed)


def study_assignments(
    database: Database, study: Any, defined: DefinedStudies
) -> list[dict[str, Any]]:
    """Every assignment of the study, in order (no RNG state)."""
    with database.read() as db:
        row = _resolve_or_unused(db, study, defined)
        return [] if row is None else study_log(db, row.name)


def randomize_by_key(
    database: Database,
    study: Any,
    key: Any,
    levels: Mapping[str, Any],
    user: str | None,
    defined: DefinedStudies,
) -> list[dict[str, Any]]:
    """Randomize ``key`` in the study; the reference API's one-row result.

    ``key`` follows the participant-label rule (``participant_label_key``: surrounding
    whitespace is not part of it), so " LAB-9" is the id LAB-9, drawn once, and a Grove
    participant labelled ``key`` in one of the study's sessions gets the treatment in
    ``participant.vars["treatment"]`` (their app's ``participant.randomize()`` then returns it
    rather than drawing again). Raises InvalidArguments, StudyNotFound, InvalidLevels.
    """
    if isinstance(key, str):
        key = participant_label_key(key)
    if not isinstance(key, str) or not key:
        raise InvalidArguments("Missing participant id", field="id")

    def work(db: Session) -> list[dict[str, Any]]:
        defined_study = isinstance(study, str) and study in defined
        if defined_study:
            name, code = study, labelled_participant_code(db, study, key)
        else:
            name, code = _draw_target(db, study, key)
        participant = get_participant(db, code, for_update=True) if code is not None else None
        if defined_study:
            # Created or checked against settings.py only now: it locks the study's row
            # (LOCK ORDER step 4), after the participant's (step 3).
            study_for_draw(db, defined, name)
        result = randomize(
            db,
            name,
            key,
            dict(levels),
            user=user,
            participant_id=participant.id if participant else None,
        )
        if participant is not None:
            participant.vars = {**(participant.vars or {}), "treatment": result.treatment}
        return [assignment_row(result)]

    return database.run(work)


def randomize_in_session(
    database: Database,
    session_code: str,
    *,
    participant_code: str | None,
    participant_label: str | None,
    levels: Mapping[str, Any],
    user: str | None,
) -> dict[str, Any]:
    """Randomize one participant of the session (once): ``participant_code``, else
    ``participant_label``. Raises SessionNotFound, ParticipantNotFound, InvalidArguments."""

    def work(db: Session) -> dict[str, Any]:
        session = get_session(db, session_code)
        participant: Participant | None
        if participant_code is not None:
            participant = get_participant(db, participant_code, for_update=True)
            if participant.session_id != session.id:
                raise InvalidArguments(
                    "participant_code is not in this session", field="participant_code"
                )
        elif participant_label is not None:
            participant = participant_with_label(db, session.id, participant_label, for_update=True)
            if participant is None:
                raise ParticipantNotFound(
                    f"no participant labelled {participant_label!r} in this session"
                )
        else:
            raise InvalidArguments(
                "give participant_code or participant_label", field="participant_code"
            )
        result = randomize_participant(db, participant, levels, user=user)
        return {
            "participant_code": participant.code,
            "treatment": result.treatment,
            "sequence": result.sequence,
            "new": result.is_new,
        }

    return database.run(work)
