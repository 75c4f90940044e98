"""State-changing admin requests: refused (a 403 page, nothing read or written) unless they
come from a logged-in admin with this browser's CSRF token (``server/web/admin_layout.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from server.http.body_limit import MAX_FORM_FILES
from server.web.admin_auth import is_admin
from server.web.admin_layout import (
    BAD_TOKEN,
    CSRF_FIELD,
    CSRF_HEADER,
    admin_message,
    csrf_token_matches,
)

AdminHandler = Callable[[Request, dict[str, str]], Response]

NOT_LOGGED_IN = (
    "You are not logged in as the admin (or your login has ended), so nothing was changed. "
    "Log in and try again."
)


def refusal(request: Request) -> Response | None:
    """Why this state-changing request may not run (a 403 page), or None if it may: the
    admin must be logged in and send this browser's CSRF token. Reads the database (call it
    in a worker thread)."""
    if not is_admin(request):
        return admin_message(request, "Not logged in", NOT_LOGGED_IN, status_code=403, admin=False)
    return None


def admin_action(handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    """Decorator of a state-changing admin route: reads the form, refuses (403, nothing done)
    a request that is not from a logged-in admin or lacks this browser's CSRF token, then runs
    ``handler(request, form)`` in a worker thread."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        form = await request.form(max_files=MAX_FORM_FILES)
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        given = values.pop(CSRF_FIELD, None) or request.headers.get(CSRF_HEADER)
        if not csrf_token_matches(request, given):
            return admin_message(request, "Refused", BAD_TOKEN, status_code=403, admin=False)
        return await run_in_threadpool(_run_checked, handler, request, values)

    return endpoint


def _run_checked(handler: AdminHandler, request: Request, values: dict[str, str]) -> Response:
    refused = refusal(request)
    if refused is not None:
        return refused
    return handler(request, values)
