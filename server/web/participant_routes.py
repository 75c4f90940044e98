"""Participant URLs in oTree's scheme: /join, /InitializeParticipant, /p/<code>/<app>/<Page>/<i>."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from server import flow
from server.errors import SessionNotFound
from server.models.core import ExperimentSession, Participant
from server.sessions import get_participant
from server.web.context import grove
from server.web.page_rendering import render_page, render_wait_page
from server.web.wait_watch import CompletionWatcher

BROWSER_COOKIE = "grove_browser"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def initialize_participant(request: Request) -> Response:
    """Start a participant (idempotent) and send them to the page they are on."""
    app = grove(request)
    with app.db.transaction() as db:
        participant = get_participant(db, request.path_params["code"], for_update=True)
        flow.start(db, app.project, participant)
        url = flow.current_url(app.project, participant)
    return _redirect(url)


def _show_without_writing(request: Request) -> Response | None:
    """GET of the page the participant is on, in a read transaction; None if it must write.

    Showing a page normally changes nothing, so it takes no write lock: many workers render
    pages at once, and never wait behind a session being created. A page that must record
    something (the first page, a wait page arrival, a countdown's start) or whose
    ``vars_for_template`` changes a row goes through the write path instead.
    """
    app = grove(request)
    with app.db.read() as db:
        participant = get_participant(db, request.path_params["code"])
        if participant.index_in_pages == 0:
            return None
        entry = flow.current_entry(app.project, participant)
        if entry is None or entry.is_wait_page or entry.index != request.path_params["index"]:
            return None
        player = flow.player_for(db, app.project, participant, entry)
        if participant.page_deadline is None and flow.timeout_seconds(entry, player) is not None:
            return None
        response = render_page(app, participant, entry, player)
        if db.new or db.dirty or db.deleted:
            return None  # the page wrote something: redo it in a write transaction
        return response


def participant_page(request: Request) -> Response:
    """Show (GET) or submit (POST) a page; any other page than the current one redirects."""
    app = grove(request)
    index = request.path_params["index"]
    submitted: dict[str, str] | None = None
    if request.method == "POST":
        submitted = request.state.form_data
    else:
        shown = _show_without_writing(request)
        if shown is not None:
            return shown
    with app.db.transaction() as db:
        participant = get_participant(db, request.path_params["code"], for_update=True)
        if participant.index_in_pages == 0:
            flow.start(db, app.project, participant)
        if submitted is not None:
            timeout_flag = submitted.pop("timeout_happened", "") in ("1", "true", "True")
            result = flow.submit_page(
                db, app.project, participant, index, submitted, timeout_happened=timeout_flag
            )
            if not result.accepted and not result.stale:
                entry = flow.current_entry(app.project, participant)
                assert entry is not None  # a refused submission leaves the participant on it
                player = flow.player_for(db, app.project, participant, entry)
                return render_page(app, participant, entry, player, form=result.form)
            return _redirect(flow.current_url(app.project, participant))
        entry = flow.current_entry(app.project, participant)
        if entry is not None and entry.is_wait_page and entry.index == index:
            passed = flow.arrive_at_wait_page(db, app.project, participant)
            if not passed:
                player = flow.player_for(db, app.project, participant, entry)
                return render_wait_page(app, participant, entry, player)
            entry = flow.current_entry(app.project, participant)
        if entry is None or entry.index != index:
            return _redirect(flow.current_url(app.project, participant))
        player = flow.player_for(db, app.project, participant, entry)
        flow.ensure_deadline(participant, entry, player)
        return render_page(app, participant, entry, player)


async def participant_page_entry(request: Request) -> Response:
    """Read the form body asynchronously, then run the page logic in a worker thread."""
    if request.method == "POST":
        form = await request.form()
        request.state.form_data = {
            key: value for key, value in form.multi_items() if isinstance(value, str)
        }
    return await run_in_threadpool(participant_page, request)


def _wait_page_is_done(request: Request) -> bool:
    """Is the participant free to move on from the wait page in the URL?"""
    app = grove(request)
    index = request.path_params["index"]
    with app.db.read() as db:
        participant = get_participant(db, request.path_params["code"])
        entry = flow.current_entry(app.project, participant)
        if entry is None or entry.index != index or not entry.is_wait_page:
            return True
        player = flow.player_for(db, app.project, participant, entry)
        if not entry.page_cls.is_displayed(player):
            return True
        scope, _members = flow.wait_scope(entry, player)
        return flow.wait_page_is_complete(db, participant, entry, scope)


async def wait_status(request: Request) -> Response:
    """Asked by wait pages: is the participant free to move on?

    With ``?wait=1`` the answer is held until the wait page completes (long polling), for at
    most LONG_POLL_SECONDS; without it, the answer comes at once.
    """
    if request.query_params.get("wait") != "1":
        ready = await run_in_threadpool(_wait_page_is_done, request)
        return JSONResponse({"ready": ready})
    state = request.app.state
    watcher = getattr(state, "wait_watcher", None)
    if watcher is None:
        watcher = state.wait_watcher = CompletionWatcher(grove(request).db)
    ready = await watcher.wait_until_ready(lambda: _wait_page_is_done(request))
    return JSONResponse({"ready": ready}, headers={"Cache-Control": "no-store"})


def finished(request: Request) -> Response:
    """The page after the last page."""
    app = grove(request)
    with app.db.read() as db:
        participant = get_participant(db, request.path_params["code"])
        if not participant.finished:
            return _redirect(flow.current_url(app.project, participant))
    return app.message_page("Thank you", "You have completed this study. You may close this page.")


def join_session(request: Request) -> Response:
    """The session-wide link: one click gives this browser the next free participant.

    A GET only shows a start button (link-preview robots fetch links); the POST assigns. The
    same browser always gets the same participant back.
    """
    app = grove(request)
    join_code = request.path_params["code"]
    token = request.cookies.get(BROWSER_COOKIE)
    with app.db.transaction() as db:
        session = db.scalars(
            sa.select(ExperimentSession).where(ExperimentSession.join_code == join_code)
        ).first()
        if session is None:
            raise SessionNotFound(f"no session with join code {join_code!r}")
        if token:
            mine = db.scalars(
                sa.select(Participant).where(
                    Participant.session_id == session.id, Participant.browser_token == token
                )
            ).first()
            if mine is not None:
                return _redirect(f"/InitializeParticipant/{mine.code}")
        if request.method == "GET":
            return app.render("grove/join.html", {"session": session, "action": request.url.path})
        token = token or secrets.token_urlsafe(24)
        free = db.scalars(
            sa.select(Participant)
            .where(
                Participant.session_id == session.id,
                Participant.browser_token.is_(None),
                Participant.visited.is_(False),
                Participant.label.is_(None),
            )
            .order_by(Participant.id_in_session)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if free is None:
            return app.message_page(
                "Session full", "Sorry, this session is full: every place has been taken."
            )
        free.browser_token = token
        free.visited = True
        code = free.code
    response = _redirect(f"/InitializeParticipant/{code}")
    response.set_cookie(
        BROWSER_COOKIE, token, max_age=60 * 60 * 24 * 30, httponly=True, samesite="lax"
    )
    return response


routes = [
    Route("/join/{code:str}", join_session, methods=["GET", "POST"]),
    Route("/InitializeParticipant/{code:str}", initialize_participant, methods=["GET"]),
    Route("/p/{code:str}/finished", finished, methods=["GET"]),
    Route(
        "/p/{code:str}/{app_name:str}/{page_name:str}/{index:int}",
        participant_page_entry,
        methods=["GET", "POST"],
    ),
    Route(
        "/p/{code:str}/{app_name:str}/{page_name:str}/{index:int}/status",
        wait_status,
        methods=["GET"],
    ),
]
