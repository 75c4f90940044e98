"""Refuse a URL or cookie holding text no database can store, before any route runs.

Every path and query parameter is a code, label or name that some route looks up or stores,
and PostgreSQL answers a NUL character in any of them with an error (SQLite just finds
nothing). Checking here, once, gives every route family the same clear 4xx in its own shape
(server/web/errors.py) instead of a 500 from whichever query ran first.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server.http.errors import error_response
from server.storable_text import unstorable_character

# Grove's own cookies (the browser token, the admin login); other sites' are never read.
GROVE_COOKIE_PREFIX = "grove_"


class RefuseUnstorableText:
    """ASGI middleware: 404 for such a path, 400 for such a query parameter or cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            refusal = _refusal(request)
            if refusal is not None:
                status, message, field = refusal
                response = error_response(request, status, message, field)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refusal(request: Request) -> tuple[int, str, str | None] | None:
    """(status, message, field) if the request holds unstorable text, else None."""
    problem = unstorable_character(request.url.path)
    if problem is not None:
        return 404, f"No page has this address: a code or name cannot contain {problem}.", None
    for name, value in request.query_params.multi_items():
        problem = unstorable_character(name)
        if problem is not None:
            return 400, f"A query parameter's name cannot contain {problem}.", None
        problem = unstorable_character(value)
        if problem is not None:
            return 400, f"The query parameter {name} cannot contain {problem}.", name
    for name, value in request.cookies.items():
        if name.startswith(GROVE_COOKIE_PREFIX) and unstorable_character(value):
            return 400, f"The cookie {name} is damaged: clear this site's cookies.", None
    return None
