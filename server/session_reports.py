"""Sessions as the APIs show them: create one, list them, read one; each a unit of work.

The REST API (``server/rest/sessions.py``) only parses, calls these and adds absolute URLs;
the admin API and the admin pages that come later call the same functions. Results are plain
data (dicts and dataclasses), never rows, so nothing reaches back into the database after the
unit of work has ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server.audit_log import record_session_created
from server.db import Database
from server.errors import ConfigurationError
from server.json_data import plain_amounts
from server.models.core import ExperimentSession, shown_status, stored_utc
from server.participant_vars import participant_label_key
from server.project import Project
from server.randomization.api_views import conceal_session_config, urn_state_for_session
from server.sessions import create_session, get_session, list_sessions
from server.typed_json import plain


@dataclass(frozen=True)
class SessionSummary:
    """What every listing shows of a session; paths are relative to the server."""

    code: str
    config_name: str
    num_participants: int
    label: str
    created_at: float | None
    room_name: str | None
    session_wide_path: str
    admin_path: str

    @property
    def room_path(self) -> str | None:
        return f"/room/{self.room_name}/" if self.room_name else None


def _epoch_seconds(moment: dt.datetime | None) -> float | None:
    """A time as oTree's ``session._created`` is: seconds since the epoch (SQLite hands back
    naive UTC times)."""
    if moment is None:
        return None
    return stored_utc(moment).timestamp()


def _summary(session: ExperimentSession) -> SessionSummary:
    return SessionSummary(
        code=session.code,
        config_name=session.config_name,
        num_participants=session.num_participants,
        label=session.label or "",
        created_at=_epoch_seconds(session.created_at),
        room_name=session.room_name,
        session_wide_path=f"/join/{session.join_code}",
        admin_path=f"/SessionStartLinks/{session.code}",
    )


def create_session_now(
    database: Database,
    project: Project,
    config_name: str,
    num_participants: int | None,
    *,
    modified_session_config_fields: Any = None,
    room_name: str | None = None,
    label: str | None = None,
    who: str | None = None,
    is_demo: bool = False,
) -> SessionSummary:
    """Create a session (``server.sessions.create_session``) in its own unit of work.
    ``who`` (an API key's user, the admin's name) is its creator and the audit log's
    (``session.create``); None for a demo visitor's or a test's session, which is not logged.

    Raises InvalidArguments, SessionConfigNotFound, RoomNotFound as create_session does;
    nothing is written then.
    """

    def work(db: Session) -> SessionSummary:
        session = create_session(
            db,
            project,
            config_name,
            num_participants,
            modified_session_config_fields=modified_session_config_fields,
            room_name=room_name,
            label=label,
            created_by=who,
            is_demo=is_demo,
        )
        if who is not None:
            db.flush()
            record_session_created(db, who, session)
        return _summary(session)

    return database.run(work)


def session_summaries(database: Database) -> list[SessionSummary]:
    """Every session but the demo ones (made from /demo), oldest first: oTree's REST list
    leaves those out (``filter_by(is_demo=False)``)."""
    with database.read() as db:
        return [_summary(session) for session in list_sessions(db) if not session.is_demo]


@dataclass(frozen=True)
class ParticipantLink:
    """A participant on a session's links page: where their start link goes, where they are."""

    id_in_session: int
    label: str | None
    start_path: str
    position: str


@dataclass(frozen=True)
class SessionLinks:
    """A session's links page: the session, whether it is a demo, every participant."""

    summary: SessionSummary
    display_name: str
    is_demo: bool
    participants: list[ParticipantLink]


def session_links(database: Database, code: str) -> SessionLinks:
    """What a session's links page shows. Raises SessionNotFound."""
    with database.read() as db:
        return links_of(get_session(db, code))


def links_of(session: ExperimentSession) -> SessionLinks:
    """A loaded session's links page (inside the caller's unit of work)."""
    return SessionLinks(
        summary=_summary(session),
        display_name=str(session.config.get("display_name") or session.config_name),
        is_demo=session.is_demo,
        participants=[
            ParticipantLink(
                id_in_session=p.id_in_session,
                label=p.label,
                start_path=f"/InitializeParticipant/{p.code}",
                position=p.current_page_name or ("finished" if p.finished else "not started"),
            )
            for p in session.get_participants()
        ],
    )


def _vars_json(values: dict[str, Any]) -> dict[str, Any]:
    """``vars`` in the JSON form of oTree's REST API: amounts as oTree 6.0.15 writes them (a
    whole number in points, ``12`` not ``12.0``; a float in money), the rest as ``plain``."""
    return plain(plain_amounts(values))


def session_detail(
    database: Database,
    code: str,
    *,
    participant_labels: Sequence[str] | None = None,
    participant_vars: Sequence[str] | None = None,
    session_vars: Sequence[str] | None = None,
) -> tuple[SessionSummary, dict[str, Any]]:
    """A session's summary and its details: config (urn seed hidden), vars, participants
    (code, label, vars, payoff, page, finished), urn state. The filters keep only those
    participants (labels compared as the rooms store them, ``participant_label_key``), and only
    those participant vars or session vars that are set (oTree's rule). Raises SessionNotFound."""
    wanted_labels = (
        None
        if participant_labels is None
        else {participant_label_key(label) for label in participant_labels}
    )
    with database.read() as db:
        session = get_session(db, code)
        participants = []
        for participant in session.get_participants():
            if wanted_labels is not None and participant.label not in wanted_labels:
                continue
            values = participant.vars or {}
            try:
                money: float | None = float(participant.payoff_in_real_world_currency())
            except ConfigurationError:
                money = None  # a config stored before values were checked: no rate to apply
            if participant_vars is not None:
                values = {k: values[k] for k in participant_vars if k in values}
            participants.append(
                {
                    "code": participant.code,
                    "id_in_session": participant.id_in_session,
                    "label": participant.label,
                    "vars": _vars_json(values),
                    "payoff": float(participant.payoff),
                    "payoff_in_real_world_currency": money,
                    "current_app": participant.current_app,
                    "current_page_name": participant.current_page_name,
                    "round_number": participant.current_round,
                    "finished": participant.finished,
                    "visited": participant.visited,
                    "status": shown_status(participant),
                }
            )
        all_vars = session.vars or {}
        details = {
            "config": plain(conceal_session_config(session.config)),
            "vars": _vars_json(
                all_vars
                if session_vars is None
                else {k: all_vars[k] for k in session_vars if k in all_vars}
            ),
            "participants": participants,
            "urn": urn_state_for_session(db, session, show_seed=False),
        }
        return _summary(session), details
