"""/api/export/... and /api/sessions/{code}/data: the data export over the API, streamed.

Every answer carries ``next_since`` (in the JSON body and the ``Grove-Next-Since`` header):
pass it back as ``?since=`` to get only the participants whose data changed after this pull.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.data_export.service import ExportAnswer, ExportRequest, open_export
from server.http.context import Grove
from server.rest.auth import Caller
from server.rest.endpoint import api_endpoint
from server.rest.errors import RequestError

NEXT_SINCE_HEADER = "Grove-Next-Since"
PARAMETERS = ("format", "since", "session")


def export_response(answer: ExportAnswer) -> StreamingResponse:
    """The export as a streamed answer; a CSV is a download named after the export."""
    headers = {NEXT_SINCE_HEADER: answer.next_since, "Cache-Control": "no-store"}
    if answer.media_type.startswith("text/csv"):
        headers["Content-Disposition"] = f'attachment; filename="{answer.filename}"'
    return StreamingResponse(answer.chunks, media_type=answer.media_type, headers=headers)


def _text(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RequestError(400, f"{name} must be a non-empty string", name)
    return value.strip()


def _request(
    params: dict[str, Any],
    table: str,
    *,
    session: str | None = None,
    function: str | None = None,
    default_format: str = "csv",
) -> ExportRequest:
    allowed = ("format", "since") if session is not None else PARAMETERS
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise RequestError(
            400, f"unknown parameter {unknown[0]!r} (allowed: {', '.join(allowed)})", unknown[0]
        )
    return ExportRequest(
        table=table,
        session_code=session if session is not None else _text(params, "session"),
        since=_text(params, "since"),
        format=_text(params, "format") or default_format,
        function=function,
    )


@api_endpoint()
def session_data(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Response:
    """GET /api/sessions/{code}/data: the session's participants, wide, JSON by default."""
    export = _request(
        params, "all_apps_wide", session=request.path_params["code"], default_format="json"
    )
    return export_response(open_export(app.db, app.project, export))


@api_endpoint()
def export_table(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Response:
    """GET /api/export/{table}: all_apps_wide, page_times, chat, urn_assignments or an app."""
    export = _request(params, request.path_params["table"])
    return export_response(open_export(app.db, app.project, export))


@api_endpoint()
def export_custom(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Response:
    """GET /api/export/{app}/{function}: the app's custom_export* function's rows."""
    export = _request(
        params, request.path_params["table"], function=request.path_params["function"]
    )
    return export_response(open_export(app.db, app.project, export))
