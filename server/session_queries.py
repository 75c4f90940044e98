"""Reading sessions for scripts (the admin API): a filtered, paginated list, and one session
with its participants' positions and its groups. Each function is one read; no HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import Database
from server.errors import ConfigurationError
from server.listing_bounds import check_page, utc_bound
from server.models.core import ExperimentSession, Participant, stored_utc
from server.project import Project
from server.randomization.api_views import conceal_session_config
from server.session_monitor import MonitorRow, monitor_rows
from server.sessions import get_session
from server.typed_json import plain


def iso_utc(moment: dt.datetime | None) -> str | None:
    """``2026-11-30T13:06:20Z`` (SQLite hands back naive UTC times); None stays None."""
    if moment is None:
        return None
    return stored_utc(moment).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SessionListing:
    """A session as a list shows it; ``created_at`` is ISO 8601 UTC."""

    code: str
    config_name: str
    display_name: str
    label: str | None
    description: str
    num_participants: int
    room_name: str | None
    created_at: str | None
    created_by: str | None
    is_demo: bool
    archived: bool


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions a list shows: each given criterion must hold (None: any)."""

    config_name: str | None = None
    room_name: str | None = None
    archived: bool | None = None
    created_since: dt.datetime | None = None


@dataclass(frozen=True)
class SessionsPage:
    """One page of a filtered list, newest first; ``page`` counts from 1, ``total`` is the
    number of matching sessions on every page."""

    sessions: list[SessionListing]
    page: int
    per_page: int
    total: int

    @property
    def has_next(self) -> bool:
        """Is there a page after this one?"""
        return self.page * self.per_page < self.total


def listing(session: ExperimentSession) -> SessionListing:
    """A loaded session as a list shows it."""
    return SessionListing(
        code=session.code,
        config_name=session.config_name,
        display_name=str(session.config.get("display_name") or session.config_name),
        label=session.label,
        description=session.description or "",
        num_participants=session.num_participants,
        room_name=session.room_name,
        created_at=iso_utc(session.created_at),
        created_by=session.created_by,
        is_demo=session.is_demo,
        archived=session.archived,
    )


def find_sessions(
    database: Database, filters: SessionFilter, *, page: int = 1, per_page: int = 50
) -> SessionsPage:
    """The sessions matching ``filters``, newest first, page ``page`` of ``per_page`` (1 to
    MAX_PER_PAGE). A page past the last is empty. Raises InvalidArguments for a bad page or
    a created_since no UTC time can hold."""
    check_page(page, per_page)
    conditions: list[Any] = []
    if filters.config_name is not None:
        conditions.append(ExperimentSession.config_name == filters.config_name)
    if filters.room_name is not None:
        conditions.append(ExperimentSession.room_name == filters.room_name)
    if filters.archived is not None:
        conditions.append(ExperimentSession.archived.is_(filters.archived))
    if filters.created_since is not None:
        since = utc_bound(filters.created_since, "created_since")
        conditions.append(ExperimentSession.created_at >= since)
    with database.read() as db:
        total = db.scalar(
            sa.select(sa.func.count()).select_from(ExperimentSession).where(*conditions)
        )
        sessions = db.scalars(
            sa.select(ExperimentSession)
            .where(*conditions)
            .order_by(ExperimentSession.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        return SessionsPage([listing(s) for s in sessions], page, per_page, total or 0)


@dataclass(frozen=True)
class RoundGroups:
    """The groups of one app's round, by ``id_in_subsession``: each a list of participant
    codes in ``id_in_group`` order."""

    app: str
    round_number: int
    groups: list[list[str]]


@dataclass(frozen=True)
class SessionOverview:
    """A session with its config (the urn seed hidden), each participant's position (the
    Monitor's row) and the groups of every app and round."""

    session: SessionListing
    config: dict[str, Any]
    app_sequence: list[str]
    vars: dict[str, Any]
    participants: list[MonitorRow]
    groups: list[RoundGroups]


def session_groups(db: Session, project: Project, session: ExperimentSession) -> list[RoundGroups]:
    """Every app's and round's groups of ``session``, in play order (one query per app)."""
    codes = dict(
        db.execute(
            sa.select(Participant.id, Participant.code).where(Participant.session_id == session.id)
        ).all()
    )
    found: list[RoundGroups] = []
    for app_name in session.config["app_sequence"]:
        if app_name not in project.apps:
            continue
        tables = project.metadata.tables
        players, groups = tables[f"{app_name}_player"], tables[f"{app_name}_group"]
        members: dict[tuple[int, int], list[str]] = defaultdict(list)
        query = (
            sa.select(players.c.round_number, groups.c.id_in_subsession, players.c.participant_id)
            .join(groups, groups.c.id == players.c.group_id)
            .where(players.c.session_id == session.id)
            .order_by(players.c.round_number, groups.c.id_in_subsession, players.c.id_in_group)
        )
        for round_number, group_number, participant_id in db.execute(query):
            members[(round_number, group_number)].append(codes[participant_id])
        for round_number in sorted({r for r, _ in members}):
            numbers = sorted(g for r, g in members if r == round_number)
            found.append(
                RoundGroups(app_name, round_number, [members[(round_number, g)] for g in numbers])
            )
    return found


def session_overview(database: Database, project: Project, code: str) -> SessionOverview:
    """Session ``code`` with its participants' positions and its groups, in one read. Raises
    SessionNotFound."""
    with database.read() as db:
        session = get_session(db, code)
        _, rows = monitor_rows(db, project, session)
        return SessionOverview(
            session=listing(session),
            config=plain(conceal_session_config(session.config)),
            app_sequence=list(session.config["app_sequence"]),
            vars=plain(session.vars or {}),
            participants=rows,
            groups=session_groups(db, project, session),
        )


@dataclass(frozen=True)
class PlayerState:
    """Everything ``players/`` may show of a participant. ``time_on_page`` and
    ``seconds_since_activity`` are whole seconds (None before the start, ``time_on_page``
    also after the end); ``last_activity`` (a page completed or a wait page reached, the
    Monitor's) and ``last_seen`` (a page request or poll) are ISO 8601 UTC or None; ``payoff``
    in points, ``payoff_in_real_world_currency`` None when the session's rate is unreadable."""

    code: str
    label: str | None
    id_in_session: int
    app: str | None
    round: int | None
    page: str | None
    page_index: int
    num_pages: int
    on_wait_page: bool
    started: bool
    finished: bool
    is_dropout: bool
    time_on_page: int | None
    last_activity: str | None
    seconds_since_activity: int | None
    last_seen: str | None
    payoff: float
    payoff_in_real_world_currency: float | None
    vars: dict[str, Any]


PLAYER_FIELDS = tuple(PlayerState.__dataclass_fields__)


def player_states(database: Database, project: Project, code: str) -> list[PlayerState]:
    """Session ``code``'s participants by ``id_in_session``, each with every PlayerState
    field, in one read. Raises SessionNotFound."""
    with database.read() as db:
        session = get_session(db, code)
        participants, rows = monitor_rows(db, project, session)
        states = []
        for participant, row in zip(participants, rows, strict=True):
            try:
                money: float | None = float(participant.payoff_in_real_world_currency())
            except ConfigurationError:
                money = None
            states.append(
                PlayerState(
                    code=row.code,
                    label=row.label,
                    id_in_session=row.id_in_session,
                    app=row.app,
                    round=row.round_number,
                    page=row.page_name,
                    page_index=row.page_index,
                    num_pages=row.num_pages,
                    on_wait_page=row.on_wait_page,
                    started=row.started,
                    finished=row.finished,
                    is_dropout=row.is_dropout,
                    time_on_page=row.seconds_on_page,
                    last_activity=(
                        row.last_activity.replace(" ", "T") + "Z" if row.last_activity else None
                    ),
                    seconds_since_activity=row.seconds_since_activity,
                    last_seen=iso_utc(participant.last_seen),
                    payoff=float(participant.payoff),
                    payoff_in_real_world_currency=money,
                    vars=plain(participant.vars or {}),
                )
            )
        return states
