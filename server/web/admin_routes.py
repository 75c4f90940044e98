"""Admin pages: the session list, a session's links, and creating sessions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.http.context import grove
from server.sessions import get_session, list_sessions
from server.web.admin_auth import admin_required, is_admin


@admin_required
def session_list(request: Request) -> Response:
    """Every session with its config, size and creation time."""
    app = grove(request)
    with app.db.read() as db:
        sessions = list_sessions(db)
        return app.render(
            "grove/sessions.html", {"sessions": sessions, "configs": app.project.session_configs}
        )


def session_start_links(request: Request) -> Response:
    """A session's links: session-wide, and one per participant with where each one is.

    Demo sessions are open to anyone while demo mode is open; others need the admin login.
    """
    app = grove(request)
    with app.db.read() as db:
        session = get_session(db, request.path_params["code"])
        if not (is_admin(request) or (session.is_demo and app.settings.demo_open)):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        base = str(request.base_url).rstrip("/")
        participants = [
            {
                "participant": p,
                "url": f"{base}/InitializeParticipant/{p.code}",
                "position": p.current_page_name or ("finished" if p.finished else "not started"),
            }
            for p in session.get_participants()
        ]
        return app.render(
            "grove/session_links.html",
            {
                "session": session,
                "participants": participants,
                "session_wide_url": f"{base}/join/{session.join_code}",
                "split_view": request.query_params.get("view") == "split",
            },
        )


routes = [
    Route("/sessions", session_list, methods=["GET"]),
    Route("/SessionStartLinks/{code:str}", session_start_links, methods=["GET"]),
]
