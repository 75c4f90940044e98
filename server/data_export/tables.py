"""What each export holds: a header and its rows, produced batch by batch from a read
transaction. Column names and order are oTree's (``otree/export.py``); Grove's additions come
after oTree's columns, so scripts written for oTree's files keep working."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.data_export.cells import utc
from server.data_export.scope import (
    BATCH_SIZE,
    PARTICIPANT_COLUMNS,
    SESSION_COLUMNS,
    ExportScope,
    app_columns,
    app_order,
    config_columns,
    last_page_names,
    model_values,
    participant_batches,
    participant_values,
    session_values,
)
from server.models.chat import ChatMessage
from server.models.core import Participant, declared_field_value
from server.models.export_log import PageCompletion
from server.models.urn import UrnAssignment, UrnStudy
from server.project import Project

# ``participant.is_dropout`` (the admin's dropout, oTree's documented field of that name): in
# the place oTree gives it when a project declares it in PARTICIPANT_FIELDS, else as the last
# column, so that every column oTree writes keeps its position.
GROVE_DROPOUT_FIELD = "is_dropout"


@dataclass
class Table:
    """An export's header and its rows (an iterator: read while the answer is written)."""

    columns: list[str]
    rows: Iterator[list[Any]]


def _app_table(project: Project, app_name: str, model: str) -> sa.Table:
    return project.metadata.tables[f"{app_name}_{model}"]


def _by_id(db: Session, table: sa.Table, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in db.execute(sa.select(table).where(table.c.id.in_(ids)))}


# --- all apps wide ------------------------------------------------------------------------


def all_apps_wide(db: Session, project: Project, scope: ExportScope) -> Table:
    """One row per participant: ``participant.*``, PARTICIPANT_FIELDS, ``session.*``,
    ``session.config.*``, SESSION_FIELDS, then ``<app>.<round>.player|group|subsession.<field>``
    for every app and round (oTree's ``get_rows_for_wide_csv``)."""
    sessions = list(scope.sessions.values())
    settings = project.settings
    config_names = config_columns(sessions)
    rounds: dict[str, int] = {}
    for app_name in app_order(project, sessions):
        subsessions = _app_table(project, app_name, "subsession")
        highest = db.scalar(
            sa.select(sa.func.max(subsessions.c.round_number)).where(
                subsessions.c.session_id.in_(scope.session_ids)
            )
        )
        if highest:
            rounds[app_name] = int(highest)
    columns = [f"participant.{name}" for name in PARTICIPANT_COLUMNS]
    columns += [f"participant.{name}" for name in settings.participant_fields]
    columns += [f"session.{name}" for name in SESSION_COLUMNS]
    columns += [f"session.config.{name}" for name in config_names]
    columns += [f"session.{name}" for name in settings.session_fields]
    for app_name, highest in rounds.items():
        by_model = app_columns(project, app_name)
        for round_number in range(1, highest + 1):
            for model in ("player", "group", "subsession"):
                columns += [f"{app_name}.{round_number}.{model}.{f}" for f in by_model[model]]
    if GROVE_DROPOUT_FIELD not in settings.participant_fields:
        columns.append(f"participant.{GROVE_DROPOUT_FIELD}")
    return Table(columns, _wide_rows(db, project, scope, config_names, rounds))


def _wide_rows(
    db: Session,
    project: Project,
    scope: ExportScope,
    config_names: list[str],
    rounds: dict[str, int],
) -> Iterator[list[Any]]:
    settings = project.settings
    subsessions = {
        app_name: {
            (row.session_id, row.round_number): row
            for row in db.execute(
                sa.select(_app_table(project, app_name, "subsession")).where(
                    _app_table(project, app_name, "subsession").c.session_id.in_(scope.session_ids)
                )
            )
        }
        for app_name in rounds
    }
    columns = {app_name: app_columns(project, app_name) for app_name in rounds}
    roles = {app_name: project.apps[app_name].roles for app_name in rounds}
    widths = {
        app_name: sum(len(cols) for cols in columns[app_name].values()) for app_name in rounds
    }
    last_pages: dict[int, tuple[str, str] | None] = {}
    for batch in participant_batches(db, scope):
        ids = [p.id for p in batch]
        players: dict[str, dict[tuple[int, int], Any]] = {}
        groups: dict[str, dict[int, Any]] = {}
        for app_name in rounds:
            table = _app_table(project, app_name, "player")
            found = db.execute(sa.select(table).where(table.c.participant_id.in_(ids))).all()
            players[app_name] = {(p.participant_id, p.round_number): p for p in found}
            groups[app_name] = _by_id(
                db,
                _app_table(project, app_name, "group"),
                {p.group_id for p in found if p.group_id is not None},
            )
        for participant in batch:
            session = scope.sessions[participant.session_id]
            session_vars = session.vars or {}
            if session.id not in last_pages:
                last_pages[session.id] = last_page_names(project, session)
            row = participant_values(participant, last_pages[session.id])
            row += [declared_field_value(participant, name) for name in settings.participant_fields]
            row += session_values(session)
            config = session.config or {}
            row += [config.get(name) for name in config_names]
            row += [session_vars.get(name) for name in settings.session_fields]
            for app_name, highest in rounds.items():
                for round_number in range(1, highest + 1):
                    player = players[app_name].get((participant.id, round_number))
                    subsession = subsessions[app_name].get((session.id, round_number))
                    if player is None or subsession is None:
                        row += [None] * widths[app_name]
                        continue
                    group = groups[app_name].get(player.group_id)
                    mine, their_roles = columns[app_name], roles[app_name]
                    row += model_values(mine["player"], their_roles, player)
                    if group is None:
                        row += [None] * len(mine["group"])
                    else:
                        row += model_values(mine["group"], their_roles, group)
                    row += model_values(mine["subsession"], their_roles, subsession)
            if GROVE_DROPOUT_FIELD not in settings.participant_fields:
                row.append(participant.is_dropout)
            yield row


# --- one app ------------------------------------------------------------------------------


def app_table(db: Session, project: Project, scope: ExportScope, app_name: str) -> Table:
    """One row per player of the app: ``participant.*``, ``player.*``, ``group.*``,
    ``subsession.*``, ``session.*`` (oTree's ``get_rows_for_csv``), players by id."""
    by_model = app_columns(project, app_name)
    columns = [f"participant.{name}" for name in PARTICIPANT_COLUMNS]
    for model in ("player", "group", "subsession"):
        columns += [f"{model}.{name}" for name in by_model[model]]
    columns += [f"session.{name}" for name in SESSION_COLUMNS]
    return Table(columns, _app_rows(db, project, scope, app_name))


def _app_rows(
    db: Session, project: Project, scope: ExportScope, app_name: str
) -> Iterator[list[Any]]:
    if not scope.sessions:
        return
    players = _app_table(project, app_name, "player")
    subsessions = _by_id(
        db,
        _app_table(project, app_name, "subsession"),
        set(
            db.scalars(
                sa.select(_app_table(project, app_name, "subsession").c.id).where(
                    _app_table(project, app_name, "subsession").c.session_id.in_(scope.session_ids)
                )
            )
        ),
    )
    participants: sa.Table = Participant.__table__  # type: ignore[assignment]
    by_model = app_columns(project, app_name)
    roles = project.apps[app_name].roles
    last_pages: dict[int, tuple[str, str] | None] = {}
    last_id = 0
    while True:
        query = (
            sa.select(players)
            .where(players.c.session_id.in_(scope.session_ids), players.c.id > last_id)
            .order_by(players.c.id)
            .limit(BATCH_SIZE)
        )
        if scope.since is not None:
            query = query.where(
                players.c.participant_id.in_(sa.select(participants.c.id).where(scope.since))
            )
        batch = db.execute(query).all()
        if not batch:
            return
        people = _by_id(db, participants, {p.participant_id for p in batch})
        groups = _by_id(
            db, _app_table(project, app_name, "group"), {p.group_id for p in batch if p.group_id}
        )
        for player in batch:
            group = groups.get(player.group_id)
            session = scope.sessions[player.session_id]
            if session.id not in last_pages:
                last_pages[session.id] = last_page_names(project, session)
            yield [
                *participant_values(people[player.participant_id], last_pages[session.id]),
                *model_values(by_model["player"], roles, player),
                *(
                    model_values(by_model["group"], roles, group)
                    if group is not None
                    else [None] * len(by_model["group"])
                ),
                *model_values(by_model["subsession"], roles, subsessions[player.subsession_id]),
                *session_values(scope.sessions[player.session_id]),
            ]
        last_id = batch[-1].id
        if len(batch) < BATCH_SIZE:
            return


# --- page times, chat, urn log ------------------------------------------------------------

PAGE_TIME_COLUMNS = [
    # oTree's TimeSpentRow, in its order:
    "session_code",
    "participant_id_in_session",
    "participant_code",
    "page_index",
    "app_name",
    "page_name",
    "epoch_time_completed",
    "round_number",
    "timeout_happened",
    "is_wait_page",
    # Grove's: when the participant reached the page (their previous completion, or their
    # start), and the completion as ISO 8601 UTC with microseconds.
    "epoch_time_arrived",
    "time_completed_utc",
]


def page_times(db: Session, project: Project, scope: ExportScope) -> Table:
    """One row per participant's start, as oTree writes it (``InitializeParticipant``, page
    index 0, no app, round 1, the start's time, ``epoch_time_arrived`` empty), then one row per
    completed page (submitted, timed out, or a wait page passed), by participant and then in
    the order completed."""
    return Table(list(PAGE_TIME_COLUMNS), _page_time_rows(db, scope))


def _epoch(moment: Any) -> float | None:
    return None if moment is None else round(utc(moment).timestamp(), 6)


def _start_row(code: str, participant: Any) -> list[Any]:
    """oTree's row for the start (``Participant.initialize``: page ``InitializeParticipant``)."""
    started = participant.time_started
    return [
        code,
        participant.id_in_session,
        participant.code,
        0,
        "",
        "InitializeParticipant",
        int(utc(started).timestamp()),
        1,
        False,
        False,
        None,
        started,
    ]


def _starts_up_to(
    waiting: Iterator[Any], scope: ExportScope, participant_id: int | None
) -> Iterator[list[Any]]:
    """The start rows of the participants ``waiting`` (by id) up to and including
    ``participant_id`` (None: all of them); those never started have none."""
    for participant in waiting:
        if participant.time_started is not None:
            yield _start_row(scope.sessions[participant.session_id].code, participant)
        if participant.id == participant_id:
            return


def _page_time_rows(db: Session, scope: ExportScope) -> Iterator[list[Any]]:
    for batch in participant_batches(db, scope):
        people = {p.id: p for p in batch}
        # Participants by id, as the completions come: each one's start row before their pages.
        waiting = iter(batch)
        completions = db.execute(
            sa.select(PageCompletion.__table__)
            .where(PageCompletion.participant_id.in_(list(people)))
            .order_by(PageCompletion.participant_id, PageCompletion.id)
        )
        previous: dict[int, Any] = {}
        for done in completions:
            participant = people[done.participant_id]
            if done.participant_id not in previous:
                yield from _starts_up_to(waiting, scope, done.participant_id)
            arrived = previous.get(done.participant_id, participant.time_started)
            previous[done.participant_id] = done.completed_at
            yield [
                scope.sessions[participant.session_id].code,
                participant.id_in_session,
                participant.code,
                done.page_index,
                done.app_name,
                done.page_name,
                int(utc(done.completed_at).timestamp()),
                done.round_number,
                done.timeout_happened,
                done.is_wait_page,
                _epoch(arrived),
                done.completed_at,
            ]
        yield from _starts_up_to(waiting, scope, None)


CHAT_COLUMNS = [
    "session_code",
    "id_in_session",
    "participant_code",
    "channel",
    "nickname",
    "body",
    "timestamp",
]


def chat(db: Session, project: Project, scope: ExportScope) -> Table:
    """Every chat message of the scope's sessions, oldest first (oTree's ``export_chat``;
    ``timestamp`` in epoch seconds)."""
    return Table(list(CHAT_COLUMNS), _chat_rows(db, scope))


def _chat_rows(db: Session, scope: ExportScope) -> Iterator[list[Any]]:
    last_id = 0
    while scope.sessions:
        batch = db.execute(
            sa.select(ChatMessage, Participant.id_in_session, Participant.code)
            .join(Participant, Participant.id == ChatMessage.participant_id)
            .where(ChatMessage.session_id.in_(scope.session_ids), ChatMessage.id > last_id)
            .order_by(ChatMessage.id)
            .limit(BATCH_SIZE)
        ).all()
        for message, id_in_session, code in batch:
            yield [
                scope.sessions[message.session_id].code,
                id_in_session,
                code,
                message.channel,
                message.nickname,
                message.body,
                _epoch(message.created_at),
            ]
        if len(batch) < BATCH_SIZE:
            return
        last_id = batch[-1][0].id
        db.expunge_all()


URN_COLUMNS = [
    "study",
    "sequence",
    "id",
    "session_code",
    "participant_code",
    "levels",
    "trt",
    "datetime",
    "user",
    "imported",
    "rng_state_before",
]


def urn_assignments(
    db: Session, project: Project, scope: ExportScope, *, rng_states: bool = False
) -> Table:
    """The urn assignment log: every randomization of every study, in order (the columns of
    the urn history export, ``server/randomization/transfer.py``, with the study, session and
    participant, and the factor levels as one JSON object). With a session filter, only the
    assignments of that session's participants.

    ``rng_state_before`` is filled only with ``rng_states`` (for admins), else None: the state
    before the last draw, replayed with the log's counts, gives the state now, and with it the
    next assignment for any levels; it is concealed as the starting seed is."""
    return Table(list(URN_COLUMNS), _urn_rows(db, scope, rng_states=rng_states))


def _urn_rows(db: Session, scope: ExportScope, *, rng_states: bool) -> Iterator[list[Any]]:
    sessions_by_id = scope.sessions
    last_id = 0
    while True:
        query = (
            sa.select(UrnAssignment, UrnStudy.name, Participant.code, Participant.session_id)
            .join(UrnStudy, UrnStudy.id == UrnAssignment.study_id)
            .outerjoin(Participant, Participant.id == UrnAssignment.participant_id)
            .where(UrnAssignment.id > last_id)
            .order_by(UrnAssignment.id)
            .limit(BATCH_SIZE)
        )
        if scope.filtered:
            query = query.where(Participant.session_id.in_(scope.session_ids))
        batch = db.execute(query).all()
        for assignment, study, code, session_id in batch:
            session = sessions_by_id.get(session_id) if session_id is not None else None
            yield [
                study,
                assignment.sequence,
                assignment.participant_key,
                session.code if session is not None else None,
                code,
                assignment.levels,
                assignment.treatment,
                assignment.created_at,
                assignment.user,
                assignment.imported,
                assignment.rng_state_before if rng_states else None,
            ]
        if len(batch) < BATCH_SIZE:
            return
        last_id = batch[-1][0].id
        db.expunge_all()
