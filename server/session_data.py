"""A session's Data tab (oTree's "Data"): one app's round as a table, a row per player with
the player's, group's and subsession's fields, as the export names them; one read, no HTTP.

Columns: the participant (``id_in_session``, code, label), then ``player.*``, ``group.*`` and
``subsession.*`` in the export's order (``data_export.scope.app_columns``: built-ins first),
or, if the app's ``C.ADMIN_VIEW_FIELDS`` names fields (oTree 6: ``{'player': [...],
'group': [...], 'subsession': [...]}``), only those of each model it names. Rows are players
by ``id_in_session``, at most ``ROWS_PER_PAGE`` a page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.data_export.cells import csv_value
from server.data_export.scope import app_columns, model_values
from server.db import Database
from server.errors import InvalidArguments
from server.models.core import ExperimentSession, Participant
from server.project import Project
from server.session_admin import AdminSessionRow, admin_row
from server.sessions import get_session

ROWS_PER_PAGE = 200
MODELS = ("player", "group", "subsession")


@dataclass(frozen=True)
class AppRound:
    """One app and round of a session: what the Data and Report tabs choose between."""

    app: str
    round_number: int
    num_rounds: int


@dataclass(frozen=True)
class SessionData:
    """One app's round as the Data tab shows it: ``columns`` (``player.contribution``...),
    ``rows`` of printable cells (as in the CSV export: None empty, booleans 1 and 0), page
    ``page`` of ``num_pages``; ``apps`` are the session's apps (for the chooser)."""

    session: AdminSessionRow
    apps: list[AppRound]
    chosen: AppRound | None
    columns: list[str]
    rows: list[list[Any]]
    page: int
    num_pages: int
    num_players: int


def session_apps(project: Project, session: ExperimentSession) -> list[AppRound]:
    """The session's apps still in the project, in its app sequence (round 1 of each)."""
    return [
        AppRound(name, 1, project.apps[name].num_rounds)
        for name in session.config.get("app_sequence", [])
        if name in project.apps
    ]


def choose(
    project: Project, session: ExperimentSession, app: str | None, round_number: int | None
) -> tuple[list[AppRound], AppRound | None]:
    """The session's apps, and the one ``app`` and round chosen (the first app's first round
    by default). Raises InvalidArguments for an app not in the session or a round it has not."""
    apps = session_apps(project, session)
    if not apps:
        return apps, None
    found = apps[0] if app is None else next((a for a in apps if a.app == app), None)
    if found is None:
        raise InvalidArguments(f"this session has no app {app!r}", field="app")
    number = 1 if round_number is None else round_number
    if not 1 <= number <= found.num_rounds:
        raise InvalidArguments(
            f"{found.app} has rounds 1 to {found.num_rounds}, not {number}", field="round"
        )
    return apps, AppRound(found.app, number, found.num_rounds)


def shown_columns(project: Project, app_name: str) -> dict[str, list[str]]:
    """Each model's columns the Data tab shows: those ``ADMIN_VIEW_FIELDS`` names for the
    model, in its order (names that are no column are left out), or all of them."""
    columns = app_columns(project, app_name)
    wanted = getattr(project.apps[app_name].constants, "ADMIN_VIEW_FIELDS", None)
    if not isinstance(wanted, dict):
        return columns
    return {
        model: [name for name in wanted[model] if name in names] if model in wanted else names
        for model, names in columns.items()
    }


def session_data(
    database: Database,
    project: Project,
    code: str,
    *,
    app: str | None = None,
    round_number: int | None = None,
    page: int = 1,
) -> SessionData:
    """The Data tab of session ``code``: ``app``'s round ``round_number``, rows of page
    ``page`` (a page past the last shows the last). Raises SessionNotFound, InvalidArguments."""
    if page < 1:
        raise InvalidArguments(f"page must be 1 or more, not {page}", field="page")
    with database.read() as db:
        session = get_session(db, code)
        apps, chosen = choose(project, session, app, round_number)
        if chosen is None:
            return SessionData(admin_row(session), apps, None, [], [], 1, 1, 0)
        tables = project.metadata.tables
        players = tables[f"{chosen.app}_player"]
        groups = tables[f"{chosen.app}_group"]
        subsessions = tables[f"{chosen.app}_subsession"]
        participants: sa.Table = Participant.__table__  # type: ignore[assignment]
        where = (players.c.session_id == session.id, players.c.round_number == chosen.round_number)
        total = db.scalar(sa.select(sa.func.count()).select_from(players).where(*where)) or 0
        num_pages = max(1, math.ceil(total / ROWS_PER_PAGE))
        page = min(page, num_pages)
        query = (
            sa.select(
                participants.c.id_in_session,
                participants.c.code,
                participants.c.label,
                players,
                groups,
                subsessions,
            )
            .select_from(players)
            .join(participants, participants.c.id == players.c.participant_id)
            .outerjoin(groups, groups.c.id == players.c.group_id)
            .join(subsessions, subsessions.c.id == players.c.subsession_id)
            .where(*where)
            .order_by(participants.c.id_in_session)
            .offset((page - 1) * ROWS_PER_PAGE)
            .limit(ROWS_PER_PAGE)
        )
        by_model = shown_columns(project, chosen.app)
        roles = project.apps[chosen.app].roles
        rows = []
        for row in db.execute(query):
            cells: list[Any] = [f"P{row.id_in_session}", row.code, row.label or ""]
            for model, table in zip(MODELS, (players, groups, subsessions), strict=True):
                cells += model_values(by_model[model], roles, _Part(row, table))
            rows.append([csv_value(cell) for cell in cells])
        columns = ["participant", "participant.code", "participant.label"]
        for model in MODELS:
            columns += [f"{model}.{name}" for name in by_model[model]]
        return SessionData(admin_row(session), apps, chosen, columns, rows, page, num_pages, total)


class _Part:
    """One table's columns of a joined row, as ``model_values`` reads a row of that table."""

    def __init__(self, row: Any, table: sa.Table) -> None:
        self._mapping = {column.key: row._mapping[column] for column in table.columns}
