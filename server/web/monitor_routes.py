"""A session's Monitor tab (oTree's "Monitor"): the page, the JSON its script polls
(``/SessionMonitor/<code>/data``, about once a second: ``grove-monitor.js``), and "advance"
for the participants ticked there (login and CSRF token checked by ``admin_action``)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from server.errors import InvalidArguments
from server.http.context import grove
from server.http.errors import json_error
from server.session_monitor import advance_participants, session_monitor
from server.web.admin_actions import admin_action
from server.web.admin_auth import admin_required, admin_who, is_admin
from server.web.admin_layout import render_admin
from server.web.admin_routes import session_page_context

# A ticked participant's checkbox is named "advance:<participant code>".
ADVANCE_PREFIX = "advance:"
# How often the page's script asks for the monitor (milliseconds).
POLL_INTERVAL_MS = 1000


@admin_required
def monitor_tab(request: Request) -> Response:
    """The Monitor tab: every participant's position and times, the group matrix, and the
    form that advances the ticked participants (works without JavaScript, too)."""
    app = grove(request)
    monitor = session_monitor(app.db, app.project, request.path_params["code"])
    return render_admin(
        request,
        "grove/admin/session_monitor.html",
        {
            **session_page_context(request, monitor.session, can_manage=True),
            "monitor": monitor,
            "poll_ms": POLL_INTERVAL_MS,
            "advanced": request.query_params.get("advanced"),
        },
    )


async def monitor_data(request: Request) -> Response:
    """The Monitor as JSON (``SessionMonitor.as_json``), read afresh from the database; 403
    in the one JSON error shape without a login (a script reads it, not a person)."""
    if not await run_in_threadpool(is_admin, request):
        return json_error(403, "not logged in as the admin")
    app = grove(request)
    monitor = await run_in_threadpool(
        session_monitor, app.db, app.project, request.path_params["code"]
    )
    return JSONResponse(monitor.as_json(), headers={"Cache-Control": "no-store"})


@admin_action
def advance(request: Request, form: dict[str, str]) -> Response:
    """Advance each ticked participant by one page (``session_monitor.advance_participant``),
    then show the Monitor again with how many moved."""
    app = grove(request)
    code = request.path_params["code"]
    codes = [key[len(ADVANCE_PREFIX) :] for key in form if key.startswith(ADVANCE_PREFIX)]
    if not codes:
        raise InvalidArguments("tick at least one participant to advance", field="participants")
    outcomes = advance_participants(app.db, app.project, code, codes, who=admin_who(request))
    moved = sum(outcome.moved for outcome in outcomes)
    return RedirectResponse(f"/SessionMonitor/{code}?advanced={moved}", status_code=303)


routes = [
    Route("/SessionMonitor/{code:str}", monitor_tab, methods=["GET"]),
    Route("/SessionMonitor/{code:str}/data", monitor_data, methods=["GET"]),
    Route("/SessionMonitor/{code:str}/advance", advance, methods=["POST"]),
]
