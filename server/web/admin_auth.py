"""The admin login: a signed cookie (``server/http/admin_cookie.py``) holding the id of a login
stored in the database (``server/admin_logins.py``), checked on every admin request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.admin_logins import LoginThrottled, log_in, log_out, login_is_valid
from server.audit_log import admin_actor
from server.http.admin_cookie import cookie_is_secure
from server.http.body_limit import MAX_FORM_FILES
from server.http.context import grove
from server.web.admin_layout import (
    BAD_TOKEN,
    CSRF_FIELD,
    admin_message,
    csrf_token_matches,
    local_path,
    render_admin,
)

logger = logging.getLogger("grove")
SESSION_KEY = "admin_login"


def is_admin(request: Request) -> bool:
    """Is this request from a logged-in admin (or is no login required)?

    Reads the database (call it from a worker thread, as sync routes are).
    """
    app = grove(request)
    if not app.settings.admin_login_required:
        return True
    return login_is_valid(app.db, app.settings, request.session.get(SESSION_KEY))


def admin_who(request: Request) -> str:
    """Who the audit log records the admin area's changes under: the admin's login name,
    or ``admin`` when no login is required (``server.audit_log.admin_actor``)."""
    settings = grove(request).settings
    return admin_actor(settings.admin_username, settings.admin_login_required)


def admin_required(view: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Decorator: send anyone who is not logged in to the login page."""

    @wraps(view)
    def wrapper(request: Request) -> Response:
        if not is_admin(request):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return view(request)

    return wrapper


def _safe_next(value: str | None) -> str:
    return local_path(value, "/sessions")


def _client(request: Request) -> str:
    # uvicorn puts the proxy's X-Forwarded-For here only for its --forwarded-allow-ips.
    return request.client.host if request.client is not None else "unknown"


async def login(request: Request) -> Response:
    """Show the login form, or check the submitted credentials (throttled, constant time)."""
    app = grove(request)
    next_url = _safe_next(request.query_params.get("next"))
    if request.method != "POST":
        return render_admin(
            request, "grove/login.html", {"error": None, "next": next_url}, admin=False
        )
    form = await request.form(max_files=MAX_FORM_FILES)
    next_url = _safe_next(str(form.get("next", "")))
    secure = cookie_is_secure(app.settings, request.url.scheme)
    if secure and request.url.scheme != "https":
        # The browser would drop a Secure cookie sent over http: say so instead of looping.
        message = (
            "This server sends the admin cookie over https only (GROVE_SECURE_COOKIES), but "
            "this page came over http. Open it with https://, or unset GROVE_SECURE_COOKIES."
        )
        context = {"error": message, "next": next_url}
        return render_admin(request, "grove/login.html", context, admin=False, status_code=400)
    try:
        outcome = await run_in_threadpool(
            log_in,
            app.db,
            app.settings,
            client=_client(request),
            username=str(form.get("username", "")),
            password=str(form.get("password", "")),
        )
    except LoginThrottled as exc:
        context = {"error": str(exc), "next": next_url}
        response = render_admin(request, "grove/login.html", context, admin=False, status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if outcome.login_id is None:
        context = {"error": "Wrong username or password.", "next": next_url}
        return render_admin(request, "grove/login.html", context, admin=False, status_code=401)
    if app.settings.production and not secure:
        logger.warning(
            "Admin login over plain http in production: the admin cookie and password cross "
            "the network unencrypted. Serve Grove over https (a proxy that ends TLS, with "
            "uvicorn's --forwarded-allow-ips naming it)."
        )
    request.session.clear()
    request.session[SESSION_KEY] = outcome.login_id
    return RedirectResponse(next_url, status_code=303)


async def logout(request: Request) -> Response:
    """GET: a page with the log-out button. POST (with the CSRF token): end the login on the
    server (its cookie no longer works anywhere) and forget it. Logging out is a POST so that
    another site cannot log the admin out with a link or an image."""
    if request.method != "POST":
        return render_admin(request, "grove/logout.html", {})
    form = await request.form(max_files=MAX_FORM_FILES)
    given = form.get(CSRF_FIELD)
    if not csrf_token_matches(request, given if isinstance(given, str) else None):
        return admin_message(request, "Refused", BAD_TOKEN, status_code=403, admin=False)
    login_id = request.session.get(SESSION_KEY)
    await run_in_threadpool(log_out, grove(request).db, login_id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["GET", "POST"]),
]
