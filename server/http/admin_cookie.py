"""The admin cookie (``grove_admin``): Starlette's signed session cookie, Secure by scheme
(read and written by ``server/http/middleware.py``).

A Secure cookie set over plain http is dropped by the browser, so a lab server on http that
always marked it Secure sent the admin back to the login page after every login, silently.
Here the flag follows the request's scheme (``https`` only as uvicorn reports it: behind a
proxy, from ``X-Forwarded-Proto`` of the addresses in its ``--forwarded-allow-ips``), unless
``Settings.secure_cookies`` (``GROVE_SECURE_COOKIES``) fixes it.

The cookie holds only the id of a server-side admin login (``server/admin_logins.py``).
``SameSite=Lax`` keeps it off cross-site POSTs (the admin forms' CSRF protection).
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode

import itsdangerous
from itsdangerous.exc import BadSignature
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import Session
from starlette.requests import cookie_parser
from starlette.types import Message

from server.config import Settings

ADMIN_COOKIE = "grove_admin"
ADMIN_COOKIE_MAX_AGE = 14 * 24 * 60 * 60  # seconds: two weeks, Starlette's default


def cookie_is_secure(settings: Settings, scheme: str) -> bool:
    """Will the admin cookie of a request with this scheme be marked Secure?"""
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return scheme in ("https", "wss")


class AdminCookie:
    """Starlette's SessionMiddleware's work, split for ``server/http/middleware.py``:
    :meth:`load` the session from the request's cookie, :meth:`add_headers` to the answer
    (``Set-Cookie`` when a route changed it, ``Vary: Cookie`` when one read it), Secure or not
    per request (:func:`cookie_is_secure`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.signer = itsdangerous.TimestampSigner(str(settings.secret_key))

    def load(self, cookie: str | None) -> tuple[Session, bool]:
        """``(session, from_cookie)`` of a request whose Cookie header is ``cookie`` (None if
        absent): the session is empty unless a validly signed ``grove_admin`` cookie younger
        than ADMIN_COOKIE_MAX_AGE holds it (``from_cookie`` then True)."""
        if cookie is None or ADMIN_COOKIE not in cookie:
            return Session(), False
        value = cookie_parser(cookie).get(ADMIN_COOKIE)
        if value is None:
            return Session(), False
        try:
            data = self.signer.unsign(value.encode("utf-8"), max_age=ADMIN_COOKIE_MAX_AGE)
        except BadSignature:
            return Session(), False
        return Session(json.loads(b64decode(data))), True

    def add_headers(
        self, message: Message, session: Session, from_cookie: bool, scheme: str
    ) -> None:
        """Add to an ``http.response.start`` ``message`` what the session's use asks for."""
        if not session.accessed:
            return
        headers = MutableHeaders(scope=message)
        headers.add_vary_header("Cookie")
        flags = "httponly; samesite=lax"
        if cookie_is_secure(self.settings, scheme):
            flags += "; secure"
        if session.modified and session:
            data = self.signer.sign(b64encode(json.dumps(session).encode("utf-8")))
            headers.append(
                "Set-Cookie",
                f"{ADMIN_COOKIE}={data.decode('utf-8')}; path=/; "
                f"Max-Age={ADMIN_COOKIE_MAX_AGE}; {flags}",
            )
        elif session.modified and from_cookie:  # cleared: the browser forgets it
            headers.append(
                "Set-Cookie",
                f"{ADMIN_COOKIE}=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; {flags}",
            )
