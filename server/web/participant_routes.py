"""Participant URLs in oTree's scheme: /join, /InitializeParticipant, /p/<code>/<app>/<Page>/<i>.

Each route parses the request, calls one use case of ``server.participant_pages`` and turns
its result into a response; the use cases own the transactions and the locks.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from server import participant_pages
from server.browser_tokens import BROWSER_COOKIE, BROWSER_COOKIE_MAX_AGE, browser_token_from
from server.errors import GroveError
from server.http.body_limit import MAX_FORM_FILES
from server.http.context import grove
from server.http.participant_presence import SEEN_BY_ROUTE, SEEN_DUE_BY_ROUTE
from server.participant_pages import Joined, Redirect, Rendered, SessionIsFull, WaitStatus
from server.participant_vars import optional_participant_label
from server.web.page_rendering import page_renderer
from server.web.wait_watch import wait_until_ready

logger = logging.getLogger("grove.pages")


def _respond(outcome: Redirect | Rendered) -> Response:
    if isinstance(outcome, Redirect):
        return RedirectResponse(outcome.url, status_code=303)
    return HTMLResponse(outcome.html, status_code=outcome.status_code)


async def initialize_participant(request: Request) -> Response:
    """Start a participant (idempotent) and send them to the page they are on; oTree's
    ``?participant_label=`` gives a participant without one that label."""
    return await grove(request).run_blocking(_start_participant, request)


def _start_participant(request: Request) -> Response:
    app = grove(request)
    label = optional_participant_label(request.query_params.get("participant_label"))
    return _respond(
        participant_pages.start_participant(app.db, app.project, request.path_params["code"], label)
    )


# A page's index in its URL: ASCII digits, at most this many (Starlette's own ``int``
# convertor takes any number of digits, and int() of more than 4,300 raises: a 500).
MAX_PAGE_INDEX_DIGITS = 9


def parse_page_index(text: str) -> int | None:
    """A page index written in a URL, or None unless it is a number of at most
    MAX_PAGE_INDEX_DIGITS digits (a 4,301-digit one was once a 500)."""
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_PAGE_INDEX_DIGITS):
        return None
    return int(text)


def page_index(request: Request) -> int:
    """The page index in the URL; HTTPException 404 (a participant's 404 page) unless
    parse_page_index reads it."""
    index = parse_page_index(request.path_params["index"])
    if index is None:
        raise HTTPException(404, "No such page")
    return index


def participant_page(request: Request) -> Response:
    """Show (GET) or submit (POST) a page; any other page than the current one redirects."""
    app = grove(request)
    code, index = request.path_params["code"], page_index(request)
    render = page_renderer(app)
    if request.method == "POST":
        submitted = dict(request.state.form_data)
        timeout_flag = submitted.pop("timeout_happened", "") in ("1", "true", "True")
        outcome = participant_pages.submit_page(
            app.db,
            app.project,
            code,
            index,
            submitted,
            render,
            timeout_happened=timeout_flag,
            seen=True,
            app_in_url=request.path_params["app_name"],
            page_in_url=request.path_params["page_name"],
        )
        setattr(request.state, SEEN_BY_ROUTE, True)  # the presence middleware need not write
        return _respond(outcome)
    outcome = participant_pages.show_page(
        app.db,
        app.project,
        code,
        index,
        render,
        app_in_url=request.path_params["app_name"],
        page_in_url=request.path_params["page_name"],
    )
    if isinstance(outcome, Rendered) and outcome.seen_due is not None:
        # The page's read had the participant's last_seen: the presence middleware need not.
        setattr(request.state, SEEN_DUE_BY_ROUTE, outcome.seen_due)
    return _respond(outcome)


async def participant_page_entry(request: Request) -> Response:
    """Read the form body asynchronously, then run the page logic in a worker thread (on the
    event loop in a bot run: ``Grove.run_blocking``)."""
    page_index(request)  # a URL that names no page is a 404 before any body is read
    if request.method == "POST":
        form = await request.form(max_files=MAX_FORM_FILES)
        request.state.form_data = {
            key: value for key, value in form.multi_items() if isinstance(value, str)
        }
    return await grove(request).run_blocking(participant_page, request)


def _wait_page_status(request: Request) -> WaitStatus:
    app = grove(request)
    return participant_pages.wait_page_status(
        app.db, app.project, request.path_params["code"], page_index(request)
    )


async def wait_status(request: Request) -> Response:
    """Asked by wait pages: is the participant free to move on?

    With ``?wait=1`` the answer is held until the wait page completes (long polling, woken by
    the participant's page channel: ``server.web.wait_watch``), for at most LONG_POLL_SECONDS,
    and answers ``{"ready": true, "url": <their next page>}``: the page's script loads that
    page, one request instead of a reload and a redirect. The unit of work that completed the
    wait page has moved the participant on and said where to (no database access here); when
    it could not (their next page's code failed), this request moves them, as the page's
    reload would. Without ``wait``, the answer comes at once and changes nothing.
    """
    index = page_index(request)
    if request.query_params.get("wait") != "1":
        status = await run_in_threadpool(_wait_page_status, request)
        return JSONResponse({"ready": status.ready})
    app, code = grove(request), request.path_params["code"]
    no_store = {"Cache-Control": "no-store"}
    released = await wait_until_ready(app.push_hub, code, index, lambda: _wait_page_status(request))
    if released is None:
        return JSONResponse({"ready": False}, headers=no_store)
    if released.url is not None:  # the completion moved them on: nothing to write
        return JSONResponse({"ready": True, "url": released.url}, headers=no_store)
    if await request.is_disconnected():
        # The page was closed while it waited: nobody to move on; their next request does.
        return Response(status_code=204, headers=no_store)
    try:
        url = await run_in_threadpool(
            participant_pages.leave_wait_page, app.db, app.project, code, index
        )
    except (GroveError, HTTPException):
        raise  # answered as every request's (a 404 reloads the page, a 503 asks again)
    except Exception as error:
        # The app's code (the next page's is_displayed, say) failed while moving them on:
        # nothing was written, and the page's reload shows the error as oTree's would.
        logger.warning("moving %s on from wait page %d failed (%r); it reloads", code, index, error)
        return JSONResponse({"ready": True}, headers=no_store)
    if url is None:
        return JSONResponse({"ready": False}, headers=no_store)
    setattr(request.state, SEEN_BY_ROUTE, True)  # noted in leave_wait_page's unit of work
    return JSONResponse({"ready": True, "url": url}, headers=no_store)


async def finished(request: Request) -> Response:
    """The page after the last page."""
    return await grove(request).run_blocking(_finished_page, request)


def _finished_page(request: Request) -> Response:
    app = grove(request)
    elsewhere = participant_pages.has_finished(app.db, app.project, request.path_params["code"])
    if elsewhere is not None:
        return _respond(elsewhere)
    return app.message_page("Thank you", "You have completed this study. You may close this page.")


def join_session(request: Request) -> Response:
    """The session-wide link: one click gives this browser the next free participant.

    A GET only shows a start button (link-preview robots fetch links); the POST assigns. The
    same browser always gets the same participant back. With oTree's ``?participant_label=``
    (kept in the button's URL) the same label does, and the participant gets that label.
    """
    app = grove(request)
    label = optional_participant_label(request.query_params.get("participant_label"))
    try:
        outcome = participant_pages.join_session(
            app.db,
            request.path_params["code"],
            browser_token_from(request.cookies.get(BROWSER_COOKIE)),
            claim=request.method == "POST",
            label=label,
        )
    except SessionIsFull as full:
        return app.message_page("Session full", str(full))
    if not isinstance(outcome, Joined):
        action = request.url.path
        if label is not None:
            action += "?" + urlencode({"participant_label": label})
        return app.render("grove/join.html", {"action": action})
    response = RedirectResponse(f"/InitializeParticipant/{outcome.participant_code}", 303)
    response.set_cookie(
        BROWSER_COOKIE,
        outcome.browser_token,
        max_age=BROWSER_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
    )
    return response


routes = [
    Route("/join/{code:str}", join_session, methods=["GET", "POST"]),
    Route("/InitializeParticipant/{code:str}", initialize_participant, methods=["GET"]),
    Route("/p/{code:str}/finished", finished, methods=["GET"]),
    Route(
        "/p/{code:str}/{app_name:str}/{page_name:str}/{index:str}",
        participant_page_entry,
        methods=["GET", "POST"],
    ),
    Route(
        "/p/{code:str}/{app_name:str}/{page_name:str}/{index:str}/status",
        wait_status,
        methods=["GET"],
    ),
]
