"""A session's Data tab (``/SessionData/<code>``: one app's round of player, group and
subsession fields, refreshed in place by ``grove-refresh.js``) and its Report tab
(``/SessionReport/<code>``: the app's ``admin_report.html``). Both read only; the app and
round are chosen by ``?app=&round=``."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.errors import InvalidArguments
from server.http.context import grove
from server.session_data import session_data
from server.session_report import session_report
from server.templating import render_template
from server.web.admin_auth import admin_required
from server.web.admin_layout import render_admin
from server.web.admin_routes import session_page_context

# How often the Data tab's script reloads its table (milliseconds).
REFRESH_INTERVAL_MS = 3000


def _whole_number(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidArguments(f"{name} must be a whole number, not {text!r}", field=name) from None


@admin_required
def data_tab(request: Request) -> Response:
    """The Data tab: the chosen app's round, a page of at most ``ROWS_PER_PAGE`` players."""
    app = grove(request)
    data = session_data(
        app.db,
        app.project,
        request.path_params["code"],
        app=request.query_params.get("app") or None,
        round_number=_whole_number(request, "round"),
        page=_whole_number(request, "page") or 1,
    )
    return render_admin(
        request,
        "grove/admin/session_data.html",
        {
            **session_page_context(request, data.session, can_manage=True),
            "data": data,
            "refresh_ms": REFRESH_INTERVAL_MS,
        },
    )


@admin_required
def report_tab(request: Request) -> Response:
    """The Report tab: the chosen app's ``admin_report.html`` for the chosen round."""
    app = grove(request)

    def render(template: str, context: dict[str, Any]) -> str:
        return render_template(app.templates.get_template(template), context)

    report = session_report(
        app.db,
        app.project,
        request.path_params["code"],
        render,
        app=request.query_params.get("app") or None,
        round_number=_whole_number(request, "round"),
    )
    return render_admin(
        request,
        "grove/admin/session_report.html",
        {
            **session_page_context(request, report.session, can_manage=True),
            "report": report,
            # Rendered by the project's autoescaping templates: the app's own HTML.
            "report_html": Markup(report.html) if report.html is not None else None,
        },
    )


routes = [
    Route("/SessionData/{code:str}", data_tab, methods=["GET"]),
    Route("/SessionReport/{code:str}", report_tab, methods=["GET"]),
]
