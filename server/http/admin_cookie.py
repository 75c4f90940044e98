"""The admin cookie (``grove_admin``): Starlette's signed session cookie, Secure by scheme.

A Secure cookie set over plain http is dropped by the browser, so a lab server on http that
always marked it Secure sent the admin back to the login page after every login, silently.
Here the flag follows the request's scheme (``https`` only as uvicorn reports it: behind a
proxy, from ``X-Forwarded-Proto`` of the addresses in its ``--forwarded-allow-ips``), unless
``Settings.secure_cookies`` (``GROVE_SECURE_COOKIES``) fixes it.

The cookie holds only the id of a server-side admin login (``server/admin_logins.py``).
``SameSite=Lax`` keeps it off cross-site POSTs (the admin forms' CSRF protection).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from server.config import Settings

ADMIN_COOKIE = "grove_admin"
ADMIN_COOKIE_MAX_AGE = 14 * 24 * 60 * 60  # seconds: two weeks, Starlette's default


def cookie_is_secure(settings: Settings, scheme: str) -> bool:
    """Will the admin cookie of a request with this scheme be marked Secure?"""
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return scheme in ("https", "wss")


class AdminCookie:
    """Starlette's SessionMiddleware, with or without the Secure flag per request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.settings = settings
        options = {
            "secret_key": settings.secret_key,
            "session_cookie": ADMIN_COOKIE,
            "max_age": ADMIN_COOKIE_MAX_AGE,
            "same_site": "lax",
        }
        self.secure = SessionMiddleware(app, https_only=True, **options)  # type: ignore[arg-type]
        self.plain = SessionMiddleware(app, https_only=False, **options)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the middleware of its scheme."""
        secure = cookie_is_secure(self.settings, scope.get("scheme", "http"))
        await (self.secure if secure else self.plain)(scope, receive, send)


def admin_cookie_middleware(settings: Settings) -> Middleware:
    """The middleware entry for ``create_app``."""
    return Middleware(AdminCookie, settings=settings)
