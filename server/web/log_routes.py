"""The admin area's Log page (REDCap's "Logging"): who changed what, newest first, a page at
a time, filtered by session, action or time (``server/audit_log.py``); and a session's Log tab,
its own changes."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.audit_log import LogFilter, read_log
from server.errors import InvalidArguments
from server.http.context import grove
from server.session_admin import session_row
from server.web.admin_auth import admin_required
from server.web.admin_layout import render_admin
from server.web.admin_routes import session_page_context

PER_PAGE = 100


def _text(request: Request, name: str) -> str | None:
    return (request.query_params.get(name) or "").strip() or None


def _since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArguments(
            f"since must be a date or time like 2026-11-30 or 2026-11-30T14:00, not {text!r}",
            field="since",
        ) from None


def _page(text: str | None) -> int:
    try:
        return int(text or "1")
    except ValueError:
        raise InvalidArguments(f"page must be a whole number, not {text!r}", field="page") from None


@admin_required
def log_page(request: Request) -> Response:
    """GET /log: the audit log with its filter form (``?session=&action=&since=&page=``)."""
    filters = {name: _text(request, name) for name in ("session", "action", "since")}
    found = read_log(
        grove(request).db,
        LogFilter(
            session=filters["session"],
            action=filters["action"],
            since=_since(filters["since"]),
        ),
        page=_page(request.query_params.get("page")),
        per_page=PER_PAGE,
    )
    query = urlencode({k: v for k, v in filters.items() if v})
    return render_admin(
        request,
        "grove/admin/log.html",
        {"log": found, "filters": filters, "query": f"&{query}" if query else ""},
    )


@admin_required
def session_log_tab(request: Request) -> Response:
    """GET /SessionLog/<code>: the session's tab with its changes (``?page=``)."""
    app = grove(request)
    code = request.path_params["code"]
    session = session_row(app.db, code)  # SessionNotFound: a 404 page
    found = read_log(
        app.db,
        LogFilter(session=code),
        page=_page(request.query_params.get("page")),
        per_page=PER_PAGE,
    )
    return render_admin(
        request,
        "grove/admin/session_log.html",
        {**session_page_context(request, session, can_manage=True), "log": found},
    )


routes = [
    Route("/log", log_page, methods=["GET"]),
    Route("/SessionLog/{code:str}", session_log_tab, methods=["GET"]),
]
