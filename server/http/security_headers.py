"""Security headers on every response, by route family (a pure ASGI middleware).

* Every response: ``X-Content-Type-Options: nosniff`` (a JSON answer or an uploaded text is
  never run as a script) and ``Referrer-Policy: same-origin`` (a participant link, which holds
  the participant's code, never reaches another site in a Referer header).
* Admin pages (:data:`ADMIN_PATHS`, Grove's own templates): a strict Content-Security-Policy
  that allows only Grove's own files: no inline script or style, no other origin, no framing
  (clickjacking), forms posted only to Grove. The admin templates have no inline code.
* Participant pages (everything else): only ``frame-ancestors 'self'`` (and the older
  ``X-Frame-Options: SAMEORIGIN``): an oTree project's templates use inline ``<script>`` and
  ``onclick`` handlers, which a script policy would break, while framing stays allowed for the
  admin's own split view (participants side by side in iframes of the same origin).

A header a route has already set is left as it is.
"""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.config import Settings

# Each path and everything below it.
ADMIN_PATHS = (
    "/login",
    "/logout",
    "/sessions",
    "/SessionStartLinks",
    "/SessionPayments",
    "/SessionMonitor",
    "/SessionData",
    "/SessionReport",
    "/apikeys",
    "/rooms",
    "/SessionChat",
    "/demo",
    "/export",
    "/api/docs",
    "/admin/api",
)
ADMIN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PARTICIPANT_CONTENT_SECURITY_POLICY = "frame-ancestors 'self'"
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def is_admin_path(path: str) -> bool:
    """Is this one of the admin area's URLs (strict policy), not a participant's?"""
    return any(path == admin or path.startswith(admin + "/") for admin in ADMIN_PATHS)


def headers_for(path: str) -> dict[str, str]:
    """The security headers a response to ``path`` gets (names as sent)."""
    if is_admin_path(path):
        framing = {
            "Content-Security-Policy": ADMIN_CONTENT_SECURITY_POLICY,
            "X-Frame-Options": "DENY",
            # Session data, links and keys: not kept by the browser or a proxy after logout.
            "Cache-Control": "no-store",
        }
    else:
        framing = {
            "Content-Security-Policy": PARTICIPANT_CONTENT_SECURITY_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
        }
    return {**COMMON_HEADERS, **framing}


class SecurityHeaders:
    """Add :func:`headers_for` the request's path to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_middleware(settings: Settings) -> list[Middleware]:
    """The outermost middleware: unknown hosts refused (when ``settings.allowed_hosts`` names
    some; Starlette's TrustedHostMiddleware answers 400), then the security headers.

    Logs a warning in production when no host is named.
    """
    middleware = []
    if settings.allowed_hosts:
        middleware.append(
            Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
        )
    elif settings.production:
        logging.getLogger("grove").warning(
            "No allowed hosts are set: the server answers to any Host header. Set "
            "GROVE_ALLOWED_HOSTS (e.g. lab.example.org) or ALLOWED_HOSTS in settings.py."
        )
    middleware.append(Middleware(SecurityHeaders))
    return middleware
