"""The export use case: one read snapshot, its cursor, and the answer written in chunks.

``open_export`` opens a read transaction (a REPEATABLE READ, read-only snapshot on PostgreSQL;
a WAL read transaction on SQLite: neither blocks a participant's write), reads the cursor
``next_since`` first (``server/change_sequence.py``), checks the request, and returns the
cursor with an iterator of byte chunks that reads the rows in batches while the answer is sent
and closes the transaction when it ends (or when the iterator is dropped).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.change_sequence import current_position, since_condition
from server.data_export import tables
from server.data_export.cells import csv_value, json_value
from server.data_export.custom import custom_export_names, custom_table
from server.data_export.extra import extra_model_names, extra_model_table
from server.data_export.scope import ExportScope, resolve_scope
from server.db import Database
from server.errors import InvalidArguments, NotFound
from server.project import Project

FORMATS = ("csv", "csv_bom", "json")
# Exports that are not an app's table; an app with one of these names is reached as
# /api/export/<app> only through its per-app download on the admin page (never: these win).
SPECIAL_TABLES: dict[str, Callable[[Session, Project, ExportScope], tables.Table]] = {
    "all_apps_wide": tables.all_apps_wide,
    "page_times": tables.page_times,
    "chat": tables.chat,
    "urn_assignments": tables.urn_assignments,
}
# Exports whose rows are not a participant's data: ``?since=`` does not apply.
WITHOUT_SINCE = frozenset({"chat", "urn_assignments"})
CHUNK_BYTES = 64 * 1024


class ExportNotFound(NotFound):
    """No such export: an unknown table, app or custom export function."""


@dataclass(frozen=True)
class ExportRequest:
    """What to export.

    ``table``: ``all_apps_wide``, ``page_times``, ``chat``, ``urn_assignments`` or an app's
    name; ``function``: a ``custom_export*`` function or an ExtraModel of that app instead of
    its table;
    ``session_code``: one session (else all); ``since``: a cursor, epoch seconds or ISO 8601
    (``server.change_sequence.since_condition``); ``format``: ``csv``, ``csv_bom`` or ``json``;
    ``rng_states``: the urn log's ``rng_state_before`` values, for admins only (else empty: with
    them, anyone can compute the next assignment, see ``tables.urn_assignments``).
    """

    table: str
    session_code: str | None = None
    since: str | None = None
    format: str = "csv"
    function: str | None = None
    rng_states: bool = False


@dataclass
class ExportAnswer:
    """The cursor for the next pull, how to send the answer, and its bytes, chunk by chunk."""

    next_since: str
    media_type: str
    filename: str
    chunks: Iterator[bytes]


@dataclass(frozen=True)
class ExportLink:
    """One export the admin page offers: its title and ``table`` (and custom ``function``)."""

    title: str
    table: str
    function: str | None = None


def available_exports(project: Project) -> list[ExportLink]:
    """Every export of the project, in the admin page's order."""
    links = [ExportLink("All apps (wide)", "all_apps_wide")]
    for app_name in project.apps:
        links.append(ExportLink(f"App {app_name}", app_name))
        for name in custom_export_names(project, app_name):
            links.append(ExportLink(f"App {app_name}: {name}", app_name, name))
        for name in extra_model_names(project, app_name):
            links.append(ExportLink(f"App {app_name}: ExtraModel {name}", app_name, name))
    links += [
        ExportLink("Page times", "page_times"),
        ExportLink("Chat messages", "chat"),
        ExportLink("Urn assignment log", "urn_assignments"),
    ]
    return links


@dataclass(frozen=True)
class ExportPage:
    """The admin's Data export page: every export, and the sessions to filter by (newest
    first: code, config name, creation time)."""

    exports: list[ExportLink]
    sessions: list[tuple[str, str, dt.datetime]]


def export_page(database: Database, project: Project) -> ExportPage:
    """What the Data export page lists (one read)."""
    from server.models.core import ExperimentSession

    with database.read() as db:
        sessions = [
            (row.code, row.config_name, row.created_at)
            for row in db.execute(
                sa.select(
                    ExperimentSession.code,
                    ExperimentSession.config_name,
                    ExperimentSession.created_at,
                ).order_by(ExperimentSession.id.desc())
            )
        ]
    return ExportPage(available_exports(project), sessions)


def check_request(project: Project, request: ExportRequest) -> None:
    """Raise InvalidArguments (naming the parameter) or ExportNotFound for a request that
    cannot be answered, before any database work."""
    if request.format not in FORMATS:
        raise InvalidArguments(
            f"format must be one of {', '.join(FORMATS)}, not {request.format!r}", field="format"
        )
    if request.table not in SPECIAL_TABLES and request.table not in project.apps:
        raise ExportNotFound(
            f"no export {request.table!r}: use all_apps_wide, page_times, chat, "
            f"urn_assignments or an app ({', '.join(project.apps)})"
        )
    if request.function is not None:
        if request.table not in project.apps or request.table in SPECIAL_TABLES:
            raise ExportNotFound(f"{request.table!r} is not an app with custom exports")
        offered = custom_export_names(project, request.table)
        models = extra_model_names(project, request.table)
        if request.function not in offered + models:
            raise ExportNotFound(
                f"app {request.table!r} has no function or ExtraModel {request.function!r} "
                f"(its custom exports: {', '.join(offered) or 'none'}; its ExtraModels: "
                f"{', '.join(models) or 'none'})"
            )
    if request.since is not None and request.table in WITHOUT_SINCE:
        raise InvalidArguments(
            f"since does not apply to {request.table} (its rows are not participants' data)",
            field="since",
        )
    since_condition(request.since)  # raises InvalidArguments for a bad value


def open_export(database: Database, project: Project, request: ExportRequest) -> ExportAnswer:
    """Start an export: the cursor is read and the request checked before this returns.

    Raises InvalidArguments, ExportNotFound, SessionNotFound.
    """
    check_request(project, request)
    produced = _produce(database, project, request)
    next_since = next(produced).decode()
    # A custom export or ExtraModel is named with its app: two apps' exports differ.
    stem = f"{request.table}_{request.function}" if request.function else request.table
    if request.session_code:
        stem += f"_{request.session_code}"
    stem += f"_{dt.datetime.now(dt.UTC):%Y-%m-%d}"
    if request.format == "json":
        return ExportAnswer(next_since, "application/json", stem + ".json", produced)
    return ExportAnswer(next_since, "text/csv; charset=utf-8", stem + ".csv", produced)


def _produce(database: Database, project: Project, request: ExportRequest) -> Iterator[bytes]:
    """First the cursor, then the answer's chunks, all in one read transaction."""
    with database.read() as db:
        if not database.is_sqlite:
            # One snapshot for the cursor and every batch: a consistent export.
            db.connection(
                execution_options={
                    "isolation_level": "REPEATABLE READ",
                    "postgresql_readonly": True,
                }
            )
        position = current_position(db)
        cursor = position.cursor
        # A cursor another database handed out is refused (ForeignCursor), not answered.
        condition = since_condition(request.since, position)
        scope = resolve_scope(db, request.session_code, condition)
        if request.function is not None and request.function in extra_model_names(
            project, request.table
        ):
            table = extra_model_table(db, project, scope, request.table, request.function)
        elif request.function is not None:
            table = custom_table(db, project, scope, request.table, request.function)
        elif request.table == "urn_assignments":
            table = tables.urn_assignments(db, project, scope, rng_states=request.rng_states)
        elif request.table in SPECIAL_TABLES:
            table = SPECIAL_TABLES[request.table](db, project, scope)
        else:
            table = tables.app_table(db, project, scope, request.table)
        yield cursor.encode()
        if request.format == "json":
            yield from _json_chunks(table, cursor)
        else:
            yield from _csv_chunks(table, bom=request.format == "csv_bom")


def _csv_chunks(table: tables.Table, *, bom: bool) -> Iterator[bytes]:
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([csv_value(name) for name in table.columns])
    for row in table.rows:
        writer.writerow([csv_value(value) for value in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _json_chunks(table: tables.Table, cursor: str) -> Iterator[bytes]:
    head: dict[str, Any] = {"next_since": cursor, "columns": table.columns}
    parts = [json.dumps(head, ensure_ascii=False)[:-1], ', "rows": [']
    size = 0
    first = True
    for row in table.rows:
        text = json.dumps(
            {name: json_value(value) for name, value in zip(table.columns, row, strict=False)},
            ensure_ascii=False,
        )
        parts.append(text if first else "," + text)
        first = False
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode()
            parts, size = [], 0
    parts.append("]}")
    yield "".join(parts).encode()
