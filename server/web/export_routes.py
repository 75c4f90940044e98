"""The admin's Data export page (``/export``) and its downloads (``/export/<table>``).

The downloads take the API's parameters (``format``, ``session``, ``since``) and stream the
same answers (server/rest/export_api.py), behind the admin login instead of an API key.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.data_export.service import FORMATS, ExportRequest, export_page, open_export
from server.errors import InvalidArguments
from server.http.context import grove
from server.rest.export_api import export_response
from server.web.admin_auth import admin_required
from server.web.admin_layout import render_admin

PARAMETERS = ("format", "session", "since")


@admin_required
def data_export(request: Request) -> Response:
    """The page: a link per export and format, for every session or the one chosen."""
    app = grove(request)
    page = export_page(app.db, app.project)
    chosen = request.query_params.get("session") or ""
    if chosen not in {code for code, _config, _created in page.sessions}:
        chosen = ""
    return render_admin(
        request,
        "grove/admin/export.html",
        {"page": page, "formats": FORMATS, "chosen": chosen},
    )


def _export_request(request: Request) -> ExportRequest:
    params = request.query_params
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise InvalidArguments(f"unknown parameter {unknown[0]!r}", field=unknown[0])
    return ExportRequest(
        table=request.path_params["table"],
        function=request.path_params.get("function"),
        session_code=params.get("session") or None,
        since=params.get("since") or None,
        format=params.get("format") or "csv",
        rng_states=True,  # the page is an admin's (admin_required)
    )


@admin_required
def download(request: Request) -> Response:
    """One export, streamed (``?format=csv|csv_bom|json&session=<code>&since=<cursor>``)."""
    app = grove(request)
    return export_response(open_export(app.db, app.project, _export_request(request)))


routes = [
    Route("/export", data_export, methods=["GET"]),
    Route("/export/{table:str}", download, methods=["GET"]),
    Route("/export/{table:str}/{function:str}", download, methods=["GET"]),
]
