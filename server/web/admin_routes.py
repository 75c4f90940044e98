"""Admin pages: the session list, a session's links, and creating sessions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.http.context import grove
from server.session_reports import session_links, session_summaries
from server.web.admin_auth import admin_required, is_admin


@admin_required
def session_list(request: Request) -> Response:
    """Every session with its config, size and creation time."""
    app = grove(request)
    return app.render(
        "grove/sessions.html",
        {"sessions": session_summaries(app.db), "configs": app.project.session_configs},
    )


def session_start_links(request: Request) -> Response:
    """A session's links: session-wide, and one per participant with where each one is.

    Demo sessions are open to anyone while demo mode is open; others need the admin login.
    """
    app = grove(request)
    links = session_links(app.db, request.path_params["code"])
    if not (is_admin(request) or (links.is_demo and app.settings.demo_open)):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    base = str(request.base_url).rstrip("/")
    return app.render(
        "grove/session_links.html",
        {
            "session": links.summary,
            "display_name": links.display_name,
            "participants": [
                {"participant": p, "url": base + p.start_path, "position": p.position}
                for p in links.participants
            ],
            "session_wide_url": base + links.summary.session_wide_path,
            "split_view": request.query_params.get("view") == "split",
        },
    )


routes = [
    Route("/sessions", session_list, methods=["GET"]),
    Route("/SessionStartLinks/{code:str}", session_start_links, methods=["GET"]),
]
