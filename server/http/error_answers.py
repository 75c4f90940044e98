"""Errors a route raised, answered inside Grove's one middleware (``server/http/middleware.py``).

Starlette answers them in two layers of its own: ExceptionMiddleware (the handlers of
HTTPException and of Grove's domain errors, for errors raised outside a route's own
handling) and ServerErrorMiddleware (anything else: a 500), the latter outside every user
middleware, so its 500 carried no security header. :class:`ErrorAnswers` does both jobs with
the same handlers from inside the middleware, whose ``send`` adds the headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

from starlette._exception_handler import ExceptionHandlers, StatusHandlers
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException, WebSocketException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ExceptionHandler, Receive, Scope, Send
from starlette.websockets import WebSocket

logger = logging.getLogger("grove")


async def close_websocket(websocket: WebSocket, exc: Exception) -> None:
    """A WebSocketException: the socket closed with its code and reason (Starlette's own)."""
    assert isinstance(exc, WebSocketException)
    await websocket.close(code=exc.code, reason=exc.reason)


class ErrorAnswers:
    """The answer to each error a route raised.

    ``handlers`` is a Starlette app's ``exception_handlers``: exception classes (or HTTP
    statuses) to handlers ``(request, exc) -> Response``. The one of ``Exception`` (or 500)
    answers unexpected errors; the others are also what Starlette's routes look up themselves
    (:attr:`route_handlers`, put in each request's scope).
    """

    def __init__(self, handlers: Mapping[Any, ExceptionHandler]) -> None:
        by_class: ExceptionHandlers = {WebSocketException: close_websocket}
        by_status: StatusHandlers = {}
        self.unexpected: ExceptionHandler | None = None
        for key, handler in handlers.items():
            if key in (500, Exception):
                self.unexpected = handler
            elif isinstance(key, int):
                by_status[key] = handler
            else:
                by_class[key] = handler
        self.route_handlers = (by_class, by_status)

    def handler_for(self, exc: Exception) -> ExceptionHandler | None:
        """The handler of ``exc`` (its status's, then its nearest class's); None if none."""
        by_class, by_status = self.route_handlers
        if isinstance(exc, HTTPException) and exc.status_code in by_status:
            return by_status[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in by_class:
                return by_class[cls]
        return None

    async def answer(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``exc``, raised before any answer began, through ``send``.

        A handled error is answered by its handler. Any other is logged with its traceback,
        answered 500 by the unexpected-error handler (a plain "Internal Server Error" if there
        is none or it fails too), and raised again, as Starlette's ServerErrorMiddleware
        does, so the server (and a test client) sees it.
        """
        request = Request(scope, receive, send)
        handler = self.handler_for(exc)
        if handler is not None:
            response = await _call(handler, request, exc)
            if response is not None:
                await response(scope, receive, send)
            exc.__traceback__ = None  # a reused instance would pile up tracebacks
            return
        response = None
        if self.unexpected is not None:
            try:
                response = await _call(self.unexpected, request, exc)
            except Exception:
                logger.exception("the error page failed for %s", scope.get("path"))
        else:
            logger.error("error while serving %s", scope.get("path"), exc_info=exc)
        if response is None:
            response = PlainTextResponse("Internal Server Error", status_code=500)
        await response(scope, receive, send)
        raise exc


async def _call(handler: ExceptionHandler, request: Request, exc: Exception) -> Response | None:
    """Run a handler, async or not (a plain function runs in the thread pool, as in
    Starlette)."""
    call = cast(Callable[[Request, Exception], Any], handler)
    if is_async_callable(call):
        return cast(Response | None, await call(request, exc))
    return cast(Response | None, await run_in_threadpool(call, request, exc))
