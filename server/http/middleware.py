"""Grove's one ASGI middleware: seven jobs, one ``send`` wrapper and one ``receive`` wrapper.

Each job is a small function in its own module; this module only calls them in order, so a
request pays for one middleware layer instead of seven (each wrapping ``send``; Starlette's
own two error layers included, which :class:`GroveApp` leaves out):

0. a connection to a host not in ``settings.allowed_hosts`` refused first, before any other
   job (``server/http/trusted_hosts.py``: Starlette's TrustedHostMiddleware decides);
1. the security headers on every HTTP answer (``server/http/security_headers.py``), refusals
   below included;
2. a path, query parameter or Grove cookie holding text no database stores refused
   (``server/http/url_text.py``);
3. a declared body over the limit refused, an undeclared one counted as it streams
   (``server/http/body_limit.py``);
4. the participant of a participant URL noted after a successful answer, or before a
   socket is served (``server/http/participant_presence.py``);
5. the admin cookie's session loaded into ``scope["session"]`` and written back when a route
   changed it (``server/http/admin_cookie.py``);
6. an error raised by the route answered (``server/http/error_answers.py``): a domain error or
   an HTTPException by its handler, anything else logged with its traceback and answered 500
   (an HTML page, or JSON on the API), then raised on for the server (as Starlette's
   ServerErrorMiddleware did). Every such answer passes through the ``send`` wrapper, so it
   carries the security headers.

Refusals (0, 2, 3) are answered before the route, the presence and the session; their
answers carry the security headers too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

from server.config import Settings
from server.http.admin_cookie import AdminCookie
from server.http.body_limit import counting_receive, declared_length_refusal
from server.http.error_answers import ErrorAnswers
from server.http.errors import error_response
from server.http.participant_presence import PresenceNotes, participant_code
from server.http.route_index import IndexedRoutes
from server.http.security_headers import add_security_headers, raw_headers_for
from server.http.trusted_hosts import HostCheck, host_check
from server.http.url_text import unstorable_text_refusal


class GroveMiddleware:
    """The jobs above for HTTP; the host check, the presence, the session and the routes'
    error handlers for WebSocket. ``handlers`` maps exception classes to Starlette exception
    handlers; the one of ``Exception`` (or 500) answers unexpected errors. ``hosts``: the
    allowed hosts' check (None: any host)."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        handlers: Mapping[Any, ExceptionHandler],
        hosts: HostCheck | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = settings.max_body_bytes
        self.admin_cookie = AdminCookie(settings)
        self.presence = PresenceNotes()
        self.errors = ErrorAnswers(handlers)
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection (see the module's docstring)."""
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            if self.hosts is not None and not await self.hosts.allows(scope, receive, send):
                return
            cookies = [
                value.decode("latin-1") for name, value in scope["headers"] if name == b"cookie"
            ]
            scope["session"] = self.admin_cookie.load(_joined(cookies))[0]
            scope["starlette.exception_handlers"] = self.errors.route_handlers
            code = participant_code(scope["path"])
            if code is not None:
                await self.presence.note(scope, code)
            await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        wanted = raw_headers_for(path)
        cookies: list[str] = []
        declared = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies.append(value.decode("latin-1"))
            elif name == b"content-length" and declared is None:
                declared = value.decode("latin-1")
        cookie = _joined(cookies)
        session = None
        from_cookie = False
        status: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", ()))
                if session is not None:
                    self.admin_cookie.add_headers(
                        message, session, from_cookie, scope.get("scheme", "http")
                    )
                add_security_headers(message["headers"], wanted)
            await send(message)

        if self.hosts is not None and not await self.hosts.allows(
            scope, receive, send_with_headers
        ):
            return
        refusal = unstorable_text_refusal(
            path, scope["query_string"], cookie
        ) or declared_length_refusal(declared, self.max_body_bytes)
        if refusal is not None:
            response = error_response(Request(scope), *refusal)
            await response(scope, receive, send_with_headers)
            return
        session, from_cookie = self.admin_cookie.load(cookie)
        scope["session"] = session
        scope["starlette.exception_handlers"] = self.errors.route_handlers
        code = participant_code(path)
        if code is not None:
            scope.setdefault("state", {})
        try:
            await self.app(scope, counting_receive(receive, self.max_body_bytes), send_with_headers)
        except Exception as exc:
            if status is not None:
                raise  # the answer has begun: the server can only close the connection
            if self.errors.handler_for(exc) is None:
                session = None  # a failed request's change to the admin cookie is not kept
            await self.errors.answer(exc, scope, receive, send_with_headers)
        finally:
            if code is not None:
                await self.presence.after_answer(scope, code, status)


class GroveApp(Starlette):
    """Starlette whose whole middleware stack is :class:`GroveMiddleware` around the user
    middleware (Grove adds none) and the router: no
    ServerErrorMiddleware or ExceptionMiddleware, whose work job 6 does with the same
    ``exception_handlers``."""

    def __init__(
        self, settings: Settings, *, routes: Sequence[BaseRoute] = (), **kwargs: Any
    ) -> None:
        # One indexed route over the list (``server/http/route_index.py``): a request tries
        # only the routes its path's first segment can match, in their order.
        self._index = IndexedRoutes(routes)
        super().__init__(routes=[self._index], **kwargs)
        self.grove_settings = settings
        self.host_check = host_check(settings)  # its warning said now, not at a first request

    @property
    def routes(self) -> list[BaseRoute]:
        """The app's routes, as given (``Starlette.routes``)."""
        return self._index.routes

    def build_middleware_stack(self) -> ASGIApp:
        """GroveMiddleware(user middleware(router)); built on the first request."""
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return GroveMiddleware(app, self.grove_settings, self.exception_handlers, self.host_check)


def _joined(cookies: list[str]) -> str | None:
    """Every Cookie header of a request as one (``"; "`` between them), or None for none.

    A browser over HTTP/2 sends each cookie in a header of its own, and proxies (nginx before
    1.23) pass them on as separate headers; Starlette's ``Request.cookies`` reads them all, so
    the admin cookie and the refusal of unstorable text must too."""
    if not cookies:
        return None
    return cookies[0] if len(cookies) == 1 else "; ".join(cookies)
