"""The shape every API endpoint shares: authenticate, read parameters, run, answer JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.errors import GroveError
from server.http.context import Grove, grove
from server.http.errors import json_error, retry_after, status_for
from server.rest.auth import Caller, authenticate, settings_key_caller
from server.rest.body import read_parameters
from server.rest.errors import RequestError

Handler = Callable[[Request, Grove, Caller, dict[str, Any]], Any]


def api_endpoint() -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a synchronous handler ``(request, grove, caller, params) -> JSON data``.

    Every method's parameters come from the query string and the body alike: oTree's REST page
    (``call_api``) sends them as a JSON body even on GET.
    """

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            app = grove(request)
            try:
                # The server's own key is checked here; only per-user keys need the database.
                caller = settings_key_caller(request)
                if caller is None:
                    caller = await run_in_threadpool(authenticate, request)
                params = await read_parameters(request, app.settings.max_body_bytes)
                params.pop("api_key", None)
                result = await run_in_threadpool(handler, request, app, caller, params)
            except RequestError as exc:
                errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
                return json_error(exc.status, exc.message, errors)
            except GroveError as exc:
                field = getattr(exc, "field", None)
                errors = [{"field": field, "message": str(exc)}] if field else []
                response = json_error(status_for(exc), str(exc), errors)
                response.headers.update(retry_after(exc))
                return response
            if isinstance(result, Response):
                return result
            return JSONResponse(result)

        return endpoint

    return decorate


def absolute(request: Request, path: str) -> str:
    """An absolute URL on this server."""
    return str(request.base_url).rstrip("/") + path
