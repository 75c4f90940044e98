"""/api/export/... and /api/sessions/{code}/data: the data export over the API, streamed.

Every answer carries ``next_since`` (in the JSON body and the ``Grove-Next-Since`` header):
pass it back as ``?since=`` to get only the participants whose data changed after this pull.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.api_keys import scope_allows
from server.data_export.service import ExportAnswer, ExportRequest, open_export
from server.http.context import Grove
from server.rest.auth import Caller

if TYPE_CHECKING:  # the admin's download page (server/web) needs no pydantic model
    from server.rest.models import (
        ExportQuery,
        OtreeAppExportQuery,
        OtreeCustomExportQuery,
        OtreeExportQuery,
        SessionDataQuery,
    )

NEXT_SINCE_HEADER = "Grove-Next-Since"


def export_response(answer: ExportAnswer) -> StreamingResponse:
    """The export as a streamed answer; a CSV is a download named after the export."""
    headers = {NEXT_SINCE_HEADER: answer.next_since, "Cache-Control": "no-store"}
    if answer.media_type.startswith("text/csv"):
        headers["Content-Disposition"] = f'attachment; filename="{answer.filename}"'
    return StreamingResponse(answer.chunks, media_type=answer.media_type, headers=headers)


def session_data(
    request: Request, app: Grove, caller: Caller, params: SessionDataQuery
) -> Response:
    """GET /api/sessions/{code}/data: the session's participants, wide, JSON by default."""
    export = ExportRequest(
        table="all_apps_wide",
        session_code=request.path_params["code"],
        since=params.since,
        format=params.format,
    )
    return export_response(open_export(app.db, app.project, export))


def export_table(request: Request, app: Grove, caller: Caller, params: ExportQuery) -> Response:
    """GET /api/export/{table}: all_apps_wide, page_times, chat, urn_assignments or an app."""
    export = ExportRequest(
        table=request.path_params["table"],
        session_code=params.session,
        since=params.since,
        format=params.format,
        rng_states=scope_allows(caller.scope, "admin"),
    )
    return export_response(open_export(app.db, app.project, export))


def export_custom(request: Request, app: Grove, caller: Caller, params: ExportQuery) -> Response:
    """GET /api/export/{app}/{function}: a custom_export* function's rows, or an ExtraModel's."""
    export = ExportRequest(
        table=request.path_params["table"],
        session_code=params.session,
        since=params.since,
        format=params.format,
        function=request.path_params["function"],
    )
    return export_response(open_export(app.db, app.project, export))


# oTree 6's export paths: the same tables under oTree's names and parameters, so a script that
# pulls data from oTree pulls it from Grove unchanged.
OTREE_TABLES = {
    "/api/export_wide": "all_apps_wide",
    "/api/export_page_times": "page_times",
    "/api/export_chat": "chat",
}
# The names oTree 6 gives these downloads (its views/export.py: <name>-<date>.csv), where an
# app's table is named after the app and a custom export <app>_<function>.
OTREE_FILE_NAMES = {
    "all_apps_wide": "all_apps_wide",
    "page_times": "PageTimes",
    "chat": "ChatMessages",
}


def otree_download(answer: ExportAnswer, name: str) -> StreamingResponse:
    """The export under oTree 6's file name for it, ``<name>-<date>.csv`` (the UTC date, as
    Grove's own names), so a script that keeps the server's name finds oTree's file."""
    filename = f"{name}-{dt.datetime.now(dt.UTC):%Y-%m-%d}.csv"
    return export_response(dataclasses.replace(answer, filename=filename))


def otree_export(
    request: Request, app: Grove, caller: Caller, params: OtreeExportQuery
) -> Response:
    """GET /api/export_wide, /api/export_page_times, /api/export_chat (oTree 6's paths)."""
    table = OTREE_TABLES[request.url.path.rstrip("/")]
    export = ExportRequest(table=table, session_code=params.session_code, format=params.format)
    return otree_download(open_export(app.db, app.project, export), OTREE_FILE_NAMES[table])


def otree_export_app(
    request: Request, app: Grove, caller: Caller, params: OtreeAppExportQuery
) -> Response:
    """GET /api/export_app?app=...: one app's table (oTree 6's path)."""
    export = ExportRequest(table=params.app, session_code=params.session_code, format=params.format)
    return otree_download(open_export(app.db, app.project, export), params.app)


def otree_export_app_custom(
    request: Request, app: Grove, caller: Caller, params: OtreeCustomExportQuery
) -> Response:
    """GET /api/export_app_custom?app=...[&function_name=...]: an app's custom export (oTree
    6's path)."""
    export = ExportRequest(
        table=params.app,
        session_code=params.session_code,
        format=params.format,
        function=params.function_name,
    )
    answer = open_export(app.db, app.project, export)
    return otree_download(answer, f"{params.app}_{params.function_name}")
