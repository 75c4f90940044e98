"""/demo: the list of session configs, and one click to a demo session.

Creating a demo session is a POST (link-preview robots only GET) without a CSRF token: while
the demo is open anyone may create one directly, so a forged request could do nothing its
sender cannot do; with OTREE_AUTH_LEVEL=STUDY the demo is closed (403) to everyone."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.http.context import grove
from server.session_reports import create_session_now
from server.web.admin_auth import is_admin
from server.web.admin_layout import render_admin


def _demo_closed(request: Request) -> Response | None:
    app = grove(request)
    if app.settings.demo_open:
        return None
    return app.message_page("Demo closed", "Demo mode is off on this server.", status_code=403)


def demo_index(request: Request) -> Response:
    """Every session config with its display name and doc."""
    closed = _demo_closed(request)
    if closed is not None:
        return closed
    app = grove(request)
    return render_admin(
        request,
        "grove/demo.html",
        {
            "configs": list(app.project.session_configs.values()),
            "intro_html": app.settings.demo_page_intro_html,
            "title": app.settings.demo_page_title,
        },
        admin=is_admin(request),
    )


def demo_session(request: Request) -> Response:
    """GET: a button (robots fetch links); POST: create a demo session and show its links."""
    closed = _demo_closed(request)
    if closed is not None:
        return closed
    app = grove(request)
    config = app.project.session_config(request.path_params["config"])
    if request.method == "GET":
        return render_admin(
            request, "grove/demo_create.html", {"config": config}, admin=is_admin(request)
        )
    created = create_session_now(
        app.db, app.project, config["name"], config["num_demo_participants"], is_demo=True
    )
    return RedirectResponse(created.admin_path, status_code=303)


routes = [
    Route("/demo", demo_index, methods=["GET"]),
    Route("/demo/", demo_index, methods=["GET"]),
    Route("/demo/{config:str}", demo_session, methods=["GET", "POST"]),
]
