"""The admin's Data export page (``/export``) and its downloads (``/export/<table>``).

The downloads take the API's parameters (``format``, ``session``, ``since``) and stream the
same answers (server/rest/export_api.py), behind the admin login instead of an API key.
oTree 6's admin paths (``/ExportIndex``, ``/ExportWide``, ``/ExportPageTimes``,
``/ExportChat``, with its ``format`` and ``session_code``) lead to the same, so an admin's
bookmarks of oTree's Data page work.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.data_export.service import FORMATS, ExportRequest, export_page, open_export
from server.errors import InvalidArguments
from server.http.context import grove
from server.rest.export_api import OTREE_FILE_NAMES, export_response, otree_download
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


# oTree 6's login-protected downloads and the table each one is.
OTREE_ADMIN_TABLES = {
    "/ExportWide": "all_apps_wide",
    "/ExportPageTimes": "page_times",
    "/ExportChat": "chat",
}


@admin_required
def otree_export_index(request: Request) -> Response:
    """oTree 6's Data page, ``/ExportIndex``: Grove's is ``/export``."""
    return RedirectResponse("/export", status_code=303)


@admin_required
def otree_download_route(request: Request) -> Response:
    """oTree 6's ``/ExportWide``, ``/ExportPageTimes``, ``/ExportChat``: ``?format=csv``
    (default) or ``csv_bom``, ``?session_code=`` for one session, under oTree's file name."""
    params = request.query_params
    unknown = sorted(set(params) - {"format", "session_code"})
    if unknown:
        raise InvalidArguments(f"unknown parameter {unknown[0]!r}", field=unknown[0])
    export_format = params.get("format") or "csv"
    if export_format not in ("csv", "csv_bom"):
        raise InvalidArguments(
            f"format must be csv or csv_bom, not {export_format!r}", field="format"
        )
    table = OTREE_ADMIN_TABLES[request.url.path]
    export = ExportRequest(
        table=table, session_code=params.get("session_code") or None, format=export_format
    )
    app = grove(request)
    return otree_download(open_export(app.db, app.project, export), OTREE_FILE_NAMES[table])


routes = [
    Route("/ExportIndex", otree_export_index, methods=["GET"]),
    *(Route(path, otree_download_route, methods=["GET"]) for path in OTREE_ADMIN_TABLES),
    Route("/export", data_export, methods=["GET"]),
    Route("/export/{table:str}", download, methods=["GET"]),
    Route("/export/{table:str}/{function:str}", download, methods=["GET"]),
]
