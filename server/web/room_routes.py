"""Room pages for participants (/room/<name>/) and for admins (/rooms)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from server.browser_tokens import (
    BROWSER_COOKIE,
    BROWSER_COOKIE_MAX_AGE,
    browser_token_from,
    new_browser_token,
)
from server.errors import InvalidArguments, SessionFull
from server.http.body_limit import MAX_FORM_FILES
from server.http.context import Grove, grove
from server.http.json_input import JSONInputError, loads_strict
from server.participant_vars import optional_participant_label
from server.room_channel import room_channel
from server.rooms import (
    ROOM_HOLD_SECONDS,
    Room,
    RoomStatus,
    all_rooms,
    check_label,
    close_room,
    find_room,
    join_room,
    label_signature,
    room_status,
    rooms_overview,
    visitor_errors,
)
from server.session_reports import create_session_now
from server.web.admin_actions import admin_action
from server.web.admin_auth import admin_required, admin_who
from server.web.admin_layout import render_admin


def _browser_token(request: Request) -> tuple[str, bool]:
    token = browser_token_from(request.cookies.get(BROWSER_COOKIE))
    if token is not None:
        return token, False
    return new_browser_token(), True


def _with_cookie(response: Response, token: str, new: bool) -> Response:
    if new:
        response.set_cookie(
            BROWSER_COOKIE, token, max_age=BROWSER_COOKIE_MAX_AGE, httponly=True, samesite="lax"
        )
    return response


def room_entry(request: Request, form: dict[str, str] | None = None) -> Response:
    """GET shows the label form or a one-click start; POST (a real interaction) joins."""
    app = grove(request)
    room = find_room(app.db, app.rooms, request.path_params["name"])
    values = form if form is not None else dict(request.query_params)
    # A label no database stores is a 400 page; surrounding whitespace is not part of a label.
    label = optional_participant_label(values.get("participant_label"))
    signature = values.get("hash")
    token, new = _browser_token(request)
    context = {
        "room": room,
        "label": label,
        "hash": signature or "",
        "action": request.url.path,
        "not_found": False,
    }
    if form is None and room.welcome_page and not values.get("welcome_page_ok"):
        # oTree 6: the room's own welcome page first; it sends the visitor on with
        # welcome_page_ok=1 in the URL.
        return app.render(room.welcome_page, {"has_participant_label_file": room.has_labels})
    if label is None and room.has_labels:
        return app.render("grove/room_label.html", context)
    if label is not None:
        try:
            check_label(app.settings, room, label, signature)
        except InvalidArguments as exc:
            if exc.field == "participant_label":
                # As oTree: the form again, so a mistyped label can be typed again (still a
                # refusal: 403).
                return app.render(
                    "grove/room_label.html", {**context, "not_found": True}, status_code=403
                )
            return app.render(
                "grove/room_refused.html", {**context, "message": str(exc)}, status_code=403
            )
    query = urlencode(
        {k: v for k, v in (("participant_label", label or ""), ("hash", signature or "")) if v}
    )
    if form is None:
        # A browser without the room's cookie, and no label, cannot be on the waiting list.
        status = (
            None
            if label is None and new
            else room_status(app.db, room, label=label, browser_token=None if new else token)
        )
        if status is not None and status.listed:
            # Already waiting (the redirect after joining, or a reload of it): the waiting
            # page again; its script joins (the form's POST) once there is a session.
            return _waiting_page(app, room, context, status.waiting, query)
        # welcome_page_ok=1 (oTree 6 seats the visitor at once): the start form submits itself
        # in the browser; a seat is still taken only by its POST, never by a fetch of the link.
        context["autostart"] = bool(values.get("welcome_page_ok"))
        return _with_cookie(app.render("grove/room_start.html", context), token, new)
    try:
        arrival = join_room(app.db, room, label=label, browser_token=token)
    except SessionFull:
        return app.message_page("Session full", "Sorry, this session is full.", status_code=409)
    response: Response
    if arrival.participant_code is None:
        # POST, redirect, GET: the waiting page is the room's URL with the label, so a reload
        # shows it again (no form resubmitted), as oTree's waiting page's URL keeps the label.
        again = {"welcome_page_ok": "1"} if room.welcome_page else {}
        location = (
            request.url.path + "?" + "&".join(part for part in (query, urlencode(again)) if part)
        )
        response = RedirectResponse(location.rstrip("?"), status_code=303)
    else:
        response = RedirectResponse(
            f"/InitializeParticipant/{arrival.participant_code}", status_code=303
        )
    return _with_cookie(response, token, new)


def _waiting_page(
    app: Grove, room: Room, context: dict[str, Any], waiting: int, query: str
) -> Response:
    """The room's waiting page for a visitor on its waiting list."""
    status_url = f"/room/{room.name}/status" + (f"?{query}" if query else "")
    return app.render(
        "grove/room_waiting.html", {**context, "waiting": waiting, "status_url": status_url}
    )


async def room_page(request: Request) -> Response:
    """Read the form body (POST) then run the room logic in a worker thread; a JSON POST is a
    welcome page's check of the visitor (``room_check``)."""
    form = None
    if request.method == "POST" and _is_json(request):
        return await room_check(request)
    if request.method == "POST":
        data = await request.form(max_files=MAX_FORM_FILES)
        form = {k: v for k, v in data.items() if isinstance(v, str)}
    return await run_in_threadpool(room_entry, request, form)


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == "application/json"


async def room_check(request: Request) -> Response:
    """oTree 6's check for a room's welcome page: the posted JSON object, over the URL's
    query, answered ``{"errors": {field: message}}`` or ``{"status": "ok"}`` (always 200, as
    oTree's). Seats nobody."""
    try:
        posted = loads_strict(await request.body())
    except JSONInputError as exc:
        raise InvalidArguments(f"the body must be a JSON object: {exc}") from None
    if not isinstance(posted, dict):
        raise InvalidArguments("the body must be a JSON object")
    values: dict[str, object] = {**request.query_params, **posted}
    app = grove(request)

    def check() -> dict[str, str]:
        room = find_room(app.db, app.rooms, request.path_params["name"])
        return visitor_errors(app.settings, room, values)

    errors = await run_in_threadpool(check)
    return JSONResponse({"errors": errors} if errors else {"status": "ok"})


def _room_status(request: Request) -> RoomStatus:
    app = grove(request)
    room = find_room(app.db, app.rooms, request.path_params["name"])
    token = browser_token_from(request.cookies.get(BROWSER_COOKIE))
    return room_status(
        app.db,
        room,
        label=request.query_params.get("participant_label"),
        browser_token=token,
    )


async def room_status_poll(request: Request) -> Response:
    """Asked by the room's waiting page: is there a session yet; how many wait.

    With ``?wait=1`` (the page's script) the answer is held until the room's session changes
    (a message on the room's push channel, ``server.room_channel``: a session created in it,
    the room closed) or for ROOM_HOLD_SECONDS, the page's heartbeat, and says whether the
    visitor is still on the waiting list (``listed``: after a close the page arrives again).
    Without it the answer comes at once.
    """
    if request.query_params.get("wait") != "1":
        status = await run_in_threadpool(_room_status, request)
        return JSONResponse({"ready": status.ready, "waiting": status.waiting})
    hub = grove(request).push_hub
    async with hub.subscribed(room_channel(request.path_params["name"])) as subscription:
        status = await run_in_threadpool(_room_status, request)
        if status.ready:
            return _held_answer(status)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscription.queue.get(), ROOM_HOLD_SECONDS)
        return _held_answer(await run_in_threadpool(_room_status, request))


def _held_answer(status: RoomStatus) -> Response:
    return JSONResponse(
        {"ready": status.ready, "waiting": status.waiting, "listed": status.listed},
        headers={"Cache-Control": "no-store"},
    )


@admin_required
def rooms_index(request: Request) -> Response:
    """Every room with its links, who is waiting, and whether it has a session."""
    app = grove(request)
    base = str(request.base_url).rstrip("/")
    rows = []
    for overview in rooms_overview(app.db, all_rooms(app.db, app.rooms)):
        room = overview.room
        links = []
        if room.use_secure_urls and room.labels:
            links = [
                f"{base}/room/{room.name}/?"
                + urlencode(
                    {
                        "participant_label": label,
                        "hash": label_signature(app.settings, room, label),
                    }
                )
                for label in sorted(room.labels)
            ]
        rows.append(
            {
                "room": room,
                "url": f"{base}/room/{room.name}/",
                "links": links,
                "waiting": overview.waiting,
                "has_session": overview.has_session,
            }
        )
    return render_admin(
        request,
        "grove/rooms.html",
        {"rows": rows, "configs": app.project.session_configs.values()},
    )


@admin_action
def room_admin_action(request: Request, form: dict[str, str]) -> Response:
    """POST /rooms/<name>: create a session in the room, or close it (admins only, with the
    CSRF token)."""
    app = grove(request)
    room = find_room(app.db, app.rooms, request.path_params["name"])
    who = admin_who(request)
    if form.get("action") == "close":
        close_room(app.db, room, who=who)
        return RedirectResponse("/rooms", status_code=303)
    try:
        count = int(str(form.get("num_participants", "")))
    except ValueError:
        raise InvalidArguments(
            "num_participants must be a whole number", field="num_participants"
        ) from None
    create_session_now(
        app.db, app.project, str(form.get("config", "")), count, room_name=room.name, who=who
    )
    return RedirectResponse("/rooms", status_code=303)


routes = [
    Route("/room/{name:str}", room_page, methods=["GET", "POST"]),
    Route("/room/{name:str}/", room_page, methods=["GET", "POST"]),
    Route("/room/{name:str}/status", room_status_poll, methods=["GET"]),
    Route("/rooms", rooms_index, methods=["GET"]),
    Route("/rooms/{name:str}", room_admin_action, methods=["POST"]),
]
