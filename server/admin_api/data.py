"""The admin API's data of one session: Grove's exports (``server/data_export/``), streamed
as ``/api/export/`` streams them, with ``next_since`` in the Grove-Next-Since header."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.admin_api.session_models import PageTimesQuery, SessionDataQuery, SessionExportQuery
from server.api_keys import scope_allows
from server.data_export.service import ExportRequest, open_export
from server.http.context import Grove
from server.rest.auth import Caller
from server.rest.export_api import export_response


def _export(
    request: Request, app: Grove, caller: Caller, table: str, since: str | None, format: str
) -> Response:
    export = ExportRequest(
        table=table,
        session_code=str(request.path_params["sname"]),
        since=since,
        format=format,
        rng_states=scope_allows(caller.scope, "admin"),
    )
    return export_response(open_export(app.db, app.project, export))


def data_csv(request: Request, app: Grove, caller: Caller, params: SessionExportQuery) -> Response:
    """GET session/{sname}/data/csv/: a table of the session as a CSV download."""
    return _export(
        request, app, caller, params.table, params.since, "csv_bom" if params.bom else "csv"
    )


def data_json(request: Request, app: Grove, caller: Caller, params: SessionExportQuery) -> Response:
    """GET session/{sname}/data/json/: a table of the session as JSON."""
    return _export(request, app, caller, params.table, params.since, "json")


def data(request: Request, app: Grove, caller: Caller, params: SessionDataQuery) -> Response:
    """GET session/{sname}/data/: uproot's; the session's wide table as JSON."""
    return _export(request, app, caller, "all_apps_wide", params.since, "json")


def page_times(request: Request, app: Grove, caller: Caller, params: PageTimesQuery) -> Response:
    """GET session/{sname}/page-times/: the session's page times as a CSV download."""
    return _export(
        request, app, caller, "page_times", params.since, "csv_bom" if params.bom else "csv"
    )
