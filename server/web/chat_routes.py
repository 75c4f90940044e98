"""Chat over HTTP: the ``{{ chat }}`` box, posting and polling, and the admin CSV export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from server.chat import (
    chat_seat,
    default_channel,
    default_nickname,
    read_messages,
    seat_from_token,
    seat_token,
    send_message,
    session_chat_csv,
)
from server.errors import InvalidArguments
from server.http.context import grove
from server.http.json_input import JSONInputError, loads_strict
from server.http.query_numbers import row_id_parameter
from server.i18n import gettext
from server.web.admin_auth import is_admin


def make_chat_renderer(secret_key: str) -> Callable[..., Markup]:
    """The function ``{{ chat }}`` calls: a chat box bound to this player's channel."""

    def render(
        context: jinja2.runtime.Context, channel: Any = None, nickname: Any = None
    ) -> Markup:
        player = context.get("player")
        participant = context.get("participant")
        app_name = type(player)._grove_app.name
        channel_name = (
            f"{app_name}-{channel}" if channel is not None else default_channel(app_name, player)
        )
        seat = chat_seat(
            participant.code,
            channel_name,
            str(nickname) if nickname is not None else default_nickname(player),
        )
        token = seat_token(secret_key, seat)
        # oTree's class names (otree-chat, otree-chat__*) beside Grove's: oTree's docs tell
        # experimenters to style and script the box by them.
        return Markup(
            '<div class="otree-chat">'
            '<div class="grove-chat" data-url="/p/{}/chat" data-token="{}" data-me="{}">'
            '<div class="grove-chat-messages otree-chat__messages" aria-live="polite"></div>'
            '<div class="input-group">'
            '<input class="form-control grove-chat-input otree-chat__input" maxlength="1000" '
            'placeholder="{}">'
            '<button type="button" class="btn btn-outline-secondary otree-chat__btn-send">{}'
            "</button></div>"
            '</div></div><script src="/grove_static/grove-chat.js"></script>'
        ).format(
            participant.code,
            token,
            gettext("(Me)"),
            gettext("Type a message and press Enter"),
            gettext("Send"),
        )

    return render


def chat(request: Request) -> Response:
    """GET: messages after ``after``; POST (JSON ``{"token", "body"}``): send one."""
    app = grove(request)
    code = request.path_params["code"]
    if request.method == "GET":
        seat = seat_from_token(app.settings.secret_key, request.query_params.get("token", ""), code)
        after = row_id_parameter(request.query_params.get("after", "0"), "after")
        return JSONResponse({"messages": read_messages(app.db, code, seat, after)})
    data = request.state.chat_body
    seat = seat_from_token(app.settings.secret_key, str(data.get("token", "")), code)
    message_id = send_message(app.db, code, seat, data.get("body"))
    return JSONResponse({"ok": True, "id": message_id})


async def chat_entry(request: Request) -> Response:
    """Read the JSON body of a post, then run the chat logic in a worker thread."""
    from starlette.concurrency import run_in_threadpool

    if request.method == "POST":
        try:
            body = loads_strict(await request.body())
        except JSONInputError as exc:
            raise InvalidArguments(
                f'send a JSON object {{"token": "...", "body": "..."}}: {exc}', field=exc.field
            ) from None
        if not isinstance(body, dict):
            raise InvalidArguments('send a JSON object: {"token": "...", "body": "..."}')
        request.state.chat_body = body
    return await run_in_threadpool(chat, request)


def chat_export(request: Request) -> Response:
    """GET /SessionChat/<code>.csv: every message of the session (admins only)."""
    if not is_admin(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    app = grove(request)
    code = request.path_params["code"]
    text = session_chat_csv(app.db, code)
    return Response(
        text,
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="chat-{code}.csv"'},
    )


routes = [
    Route("/p/{code:str}/chat", chat_entry, methods=["GET", "POST"]),
    Route("/SessionChat/{code:str}.csv", chat_export, methods=["GET"]),
]
