"""A size limit on every request body, before any route parses it.

The REST API read its bodies with a limit, but a participant page's form, a chat post, a room
form or an admin form was parsed whatever its size (a 150 MB form body was). This middleware
gives every route the API's limit (``Settings.max_body_bytes``, 1 MiB by default,
``GROVE_MAX_BODY_BYTES``): a declared ``Content-Length`` over it is refused before the body is
read, and a body sent without one (chunked) is counted as it streams and refused as soon as it
passes the limit. Either way the answer is a 413 in the route family's shape (a JSON error for
the APIs, chat and status URLs; an HTML page for participants), and no route has run.

How many fields a form may have is Starlette's to limit (``request.form``'s ``max_fields``,
1,000 by default; a multipart form over it is a 400); ``MAX_FORM_FILES`` says forms carry no
files.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.http.errors import error_response

# No Grove form has a file input: a multipart part with a file name is refused (400).
MAX_FORM_FILES = 0


def too_large_message(limit: int) -> str:
    """What a 413 says."""
    return f"The request body is larger than {limit} bytes."


class LimitRequestBody:
    """ASGI middleware: 413 for a body over ``max_bytes``; 400 for a Content-Length that is
    not a number."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        declared = request.headers.get("content-length")
        if declared is not None:
            text = declared.strip()
            if not (text.isascii() and text.isdigit()):
                response = error_response(request, 400, "Content-Length is not a number.")
                await response(scope, receive, send)
                return
            if len(text) > 18 or int(text) > self.max_bytes:
                response = error_response(request, 413, too_large_message(self.max_bytes))
                await response(scope, receive, send)
                return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_bytes

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Starlette's exception handlers turn this into the route family's 413.
                    raise HTTPException(413, too_large_message(limit))
            return message

        return counted
