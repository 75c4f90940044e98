"""A session's Monitor tab: where each participant is, and the admin's "advance".

``session_monitor`` is one read of the database (never of a worker's memory), so every worker
answers the same; the page polls it. ``advance_participants`` moves stuck participants on by
one page, each in a unit of work of its own. No HTTP here.

Times come from what each unit of work stores: a participant reached their current page when
their previous page was completed (``grove_page_completion``, the page-times export's rows)
or, on their first page, when they started (``time_started``); their last activity is the
latest of that and their arrival at the wait page they are on (``grove_wait_arrival``). Only
what changes the database counts: reloading a page does not.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import flow
from server.audit_log import record_change
from server.db import Database
from server.errors import ParticipantNotFound
from server.models.core import (
    ExperimentSession,
    Participant,
    WaitPageArrival,
    shown_status,
    stored_utc,
    utcnow,
)
from server.models.export_log import PageCompletion
from server.page_commands import ReloadCommand, send_page_command
from server.participant_pages import lock_participant
from server.project import Project
from server.session_admin import AdminSessionRow, admin_row
from server.sessions import get_session

# The most participants one advance request moves (each is a unit of work of its own).
MAX_ADVANCE = 500


@dataclass(frozen=True)
class MonitorRow:
    """One participant as the Monitor shows them. ``page_index`` counts from 1 over the whole
    session's pages (``num_pages`` of them); ``seconds_on_page`` and ``seconds_since_activity``
    are whole seconds at the moment of the read (None before the participant started);
    ``is_dropout`` says an admin (or app code) marked them as dropped out; ``status`` is
    oTree 6's ``participant.status`` ("" unless the app set it);
    ``last_activity`` is ``YYYY-MM-DD HH:MM:SS`` UTC."""

    id_in_session: int
    code: str
    label: str | None
    app: str | None
    round_number: int | None
    page_name: str | None
    page_index: int
    num_pages: int
    on_wait_page: bool
    started: bool
    finished: bool
    is_dropout: bool
    status: str
    seconds_on_page: int | None
    last_activity: str
    seconds_since_activity: int | None


@dataclass(frozen=True)
class GroupMatrix:
    """The groups of one app's round: each row is a group (by ``id_in_subsession``), each
    cell a member's ``id_in_session`` in ``id_in_group`` order (oTree's group matrix)."""

    app: str
    round_number: int
    groups: list[list[int]]


@dataclass(frozen=True)
class SessionMonitor:
    """What the Monitor tab shows: the session's header, one row per participant (by
    ``id_in_session``), and the group matrix of each app and round someone is on."""

    session: AdminSessionRow
    rows: list[MonitorRow]
    matrices: list[GroupMatrix]

    def as_json(self) -> dict[str, Any]:
        """The poll's body: ``{"participants": [...], "matrices": [...]}``."""
        return {
            "participants": [row.__dict__ for row in self.rows],
            "matrices": [matrix.__dict__ for matrix in self.matrices],
            "num_finished": sum(row.finished for row in self.rows),
        }


@dataclass(frozen=True)
class AdvanceOutcome:
    """What an advance did to one participant: ``moved`` from ``before`` to ``after`` (page
    names, "" before the start, "finished" after the end), or why not (``note``)."""

    code: str
    moved: bool
    before: str
    after: str
    note: str = ""


def _latest(*moments: dt.datetime | None) -> dt.datetime | None:
    present = [m for m in (stored_utc(m) for m in moments) if m is not None]
    return max(present) if present else None


def session_monitor(database: Database, project: Project, code: str) -> SessionMonitor:
    """Session ``code``'s Monitor, in one read. Raises SessionNotFound."""
    with database.read() as db:
        session = get_session(db, code)
        participants, rows = monitor_rows(db, project, session)
        places = sorted(
            {(p.current_app, p.current_round) for p in participants if p.current_app},
            key=lambda place: (session.config["app_sequence"].index(place[0]), place[1]),
        )
        by_id = {p.id: p.id_in_session for p in participants}
        matrices = [
            _group_matrix(db, project, session.id, app, round_number, by_id)
            for app, round_number in places
            if app in project.apps and round_number is not None
        ]
        return SessionMonitor(admin_row(session), rows, matrices)


def monitor_rows(
    db: Session, project: Project, session: ExperimentSession
) -> tuple[list[Participant], list[MonitorRow]]:
    """The session's participants (by ``id_in_session``) and the Monitor's row of each,
    inside the caller's unit of work."""
    completed: dict[int, dt.datetime] = dict(
        db.execute(
            sa.select(PageCompletion.participant_id, sa.func.max(PageCompletion.completed_at))
            .where(PageCompletion.session_id == session.id)
            .group_by(PageCompletion.participant_id)
        ).all()
    )
    arrived: dict[int, dt.datetime] = dict(
        db.execute(
            sa.select(WaitPageArrival.participant_id, sa.func.max(WaitPageArrival.arrived_at))
            .where(WaitPageArrival.session_id == session.id)
            .group_by(WaitPageArrival.participant_id)
        ).all()
    )
    participants = list(
        db.scalars(
            sa.select(Participant)
            .where(Participant.session_id == session.id)
            .order_by(Participant.id_in_session)
        )
    )
    pages = project.page_sequence(session.config["app_sequence"])
    now = utcnow()
    rows = []
    for participant in participants:
        on_page_since = _latest(participant.time_started, completed.get(participant.id))
        active = _latest(on_page_since, arrived.get(participant.id))
        index = participant.index_in_pages
        entry = pages[index - 1] if 1 <= index <= len(pages) else None
        rows.append(
            MonitorRow(
                id_in_session=participant.id_in_session,
                code=participant.code,
                label=participant.label,
                app=participant.current_app,
                round_number=participant.current_round,
                page_name=participant.current_page_name,
                page_index=index,
                num_pages=len(pages),
                on_wait_page=bool(entry and entry.is_wait_page),
                started=index > 0,
                finished=participant.finished,
                is_dropout=participant.is_dropout,
                status=shown_status(participant),
                seconds_on_page=(
                    None
                    if on_page_since is None or participant.finished
                    else max(0, int((now - on_page_since).total_seconds()))
                ),
                last_activity=active.strftime("%Y-%m-%d %H:%M:%S") if active else "",
                seconds_since_activity=(
                    None if active is None else max(0, int((now - active).total_seconds()))
                ),
            )
        )
    return participants, rows


def _group_matrix(
    db: Session,
    project: Project,
    session_id: int,
    app_name: str,
    round_number: int,
    id_in_session: dict[int, int],
) -> GroupMatrix:
    tables = project.metadata.tables
    players = tables[f"{app_name}_player"]
    groups = tables[f"{app_name}_group"]
    members: dict[int, list[int]] = defaultdict(list)
    query = (
        sa.select(groups.c.id_in_subsession, players.c.participant_id)
        .join(groups, groups.c.id == players.c.group_id)
        .where(players.c.session_id == session_id, players.c.round_number == round_number)
        .order_by(groups.c.id_in_subsession, players.c.id_in_group)
    )
    for group_number, participant_id in db.execute(query):
        members[group_number].append(id_in_session[participant_id])
    return GroupMatrix(app_name, round_number, [members[n] for n in sorted(members)])


def _where(participant: Participant) -> str:
    if participant.finished:
        return "finished"
    if participant.index_in_pages == 0:
        return ""
    return participant.current_page_name or ""


def advance_participant(
    database: Database,
    project: Project,
    session_code: str,
    code: str,
    *,
    who: str,
) -> AdvanceOutcome:
    """Move one participant of session ``session_code`` on by one page, in one unit of work
    that locks as a page submission does (LOCK ORDER: the group or subsession of their page,
    then the participant). As oTree's "Advance slowest participants":

    - not started: started (put on their first page);
    - on a page: the page is submitted as a timeout would submit it (``timeout_happened`` is
      True in ``before_next_page``; the form's fields get their timeout values);
    - on a wait page: they arrive there (which lets the group through if they were the last),
      and if the others are not all there they pass it anyway; the others pass it when they
      arrive, and ``after_all_players_arrive`` runs then (so it has not run yet when this
      participant reaches the next page). A wait page that groups by arrival time is not
      passed (there is no group to pass it with);
    - finished: nothing.

    A move is logged as ``participant.advance`` by ``who`` (from and to which page), and
    their open page is reloaded to show where they are (``page_commands``, in the same unit
    of work), as oTree's advance does: a form left open would otherwise be filled in and
    submitted for nothing (its POST is redirected to the page they are on now).
    Raises ParticipantNotFound (also for a participant of another session).
    """

    def work(db: Session) -> AdvanceOutcome:
        participant = lock_participant(db, project, code)
        if participant is None or participant.session.code != session_code:
            raise ParticipantNotFound(f"no participant with code {code!r} in this session")
        before = _where(participant)
        if participant.finished:
            return AdvanceOutcome(code, False, before, before, "already finished")
        if participant.index_in_pages == 0:
            flow.start(db, project, participant, arriving=False)
            return _advanced(db, who, session_code, code, before, _where(participant))
        entry = flow.current_entry(project, participant)
        assert entry is not None  # started and not finished
        if entry.is_wait_page:
            if getattr(entry.page_cls, "group_by_arrival_time", False):
                return AdvanceOutcome(
                    code, False, before, before, "waits to be grouped by arrival time"
                )
            if not flow.arrive_at_wait_page(db, project, participant):
                flow.pass_wait_page(db, project, participant)
        else:
            flow.submit_page(db, project, participant, entry.index, {}, forced=True, arriving=False)
        return _advanced(db, who, session_code, code, before, _where(participant))

    return database.run(work)


def _advanced(
    db: Session, who: str, session_code: str, code: str, before: str, after: str
) -> AdvanceOutcome:
    send_page_command(db, [code], ReloadCommand())
    record_change(
        db,
        who,
        "participant.advance",
        session=session_code,
        participant=code,
        details={"from": before, "to": after},
    )
    return AdvanceOutcome(code, True, before, after)


def advance_participants(
    database: Database, project: Project, session_code: str, codes: Iterable[str], *, who: str
) -> list[AdvanceOutcome]:
    """``advance_participant`` for each of ``codes`` (at most MAX_ADVANCE; each its own unit
    of work, so one that fails leaves the others advanced). A code not of this session is
    reported, not raised. Raises SessionNotFound (checked first)."""
    wanted = list(dict.fromkeys(codes))[:MAX_ADVANCE]
    with database.read() as db:
        get_session(db, session_code)
    outcomes = []
    for code in wanted:
        try:
            outcomes.append(advance_participant(database, project, session_code, code, who=who))
        except ParticipantNotFound as exc:
            outcomes.append(AdvanceOutcome(code, False, "", "", str(exc)))
    return outcomes
