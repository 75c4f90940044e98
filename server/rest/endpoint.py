"""The shape every API endpoint shares: authenticate, read and validate parameters, run,
answer JSON.

An endpoint is declared once (``server/rest/spec.py``'s ``Endpoint``): its parameters are a
pydantic model, so a bad or unknown parameter is a 400 naming each bad field in the one error
shape, and the OpenAPI document is made from the same model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.api_keys import Scope, scope_allows
from server.errors import GroveError
from server.http.context import Grove, grove
from server.http.errors import json_error, retry_after, status_for
from server.http.thread_hop import run_in_thread
from server.rate_limit import count_api_request, count_api_request_at_once
from server.rest.auth import Caller, authenticate, require_scope, settings_key_caller
from server.rest.body import read_parameters
from server.rest.errors import RequestError

Handler = Callable[[Request, Grove, Caller, Any], Any]

# Plain words for pydantic's error types; others keep pydantic's message.
PHRASES = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "dict_type": "must be an object (dict)",
    "list_type": "must be a list of strings",
    "string_too_short": "must not be empty",
}


def field_errors(exc: ValidationError, allowed: Sequence[str]) -> list[dict[str, str]]:
    """One ``{"field", "message"}`` per bad parameter; nested names are joined with dots."""
    errors = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        kind = error["type"]
        if kind == "missing":
            message = f"missing required field {field}"
        elif kind == "extra_forbidden":
            accepted = f"allowed: {', '.join(allowed)}" if allowed else "this takes none"
            message = f"unknown parameter {field!r} ({accepted})"
        elif kind in PHRASES:
            message = f"{field} {PHRASES[kind]}"
        elif error["msg"].startswith("Input should"):
            message = field + error["msg"].removeprefix("Input")  # "format should be 'csv', ..."
        else:
            message = f"{field}: {error['msg']}"
        errors.append({"field": field, "message": message})
    return errors


def validate(model: type[BaseModel], params: dict[str, Any]) -> BaseModel:
    """The parameters as ``model``; RequestError 400 naming every bad field."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        errors = field_errors(exc, list(model.model_fields))
        raise RequestError(400, "; ".join(e["message"] for e in errors), errors=errors) from None


def jsonable(result: Any) -> Any:
    """A handler's answer as JSON data: models as the fields they were given."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", exclude_unset=True)
    if isinstance(result, list):
        return [jsonable(item) for item in result]
    if isinstance(result, dict):
        return {key: jsonable(value) for key, value in result.items()}
    return result


async def enforce_rate_limit(request: Request, app: Grove, caller: Caller) -> None:
    """Count this request against the caller's key (``server/rate_limit.py``; an open API's
    anonymous callers by address). Raises RateLimited (429 with Retry-After) over the limit;
    nothing is counted while the limit is off. Counted in the event loop while the worker
    holds a number of the key's minute; only taking a block (a database write) needs a
    thread."""
    limit = app.settings.api_rate_limit_per_minute
    if limit:
        key_user = caller.user or f"anonymous:{request.client.host if request.client else ''}"
        if count_api_request_at_once(app.db, key_user, limit) is None:
            await run_in_thread(count_api_request, app.db, key_user, limit)


def serve(
    handler: Handler,
    params: type[BaseModel],
    *,
    scope: Scope,
    key_required: bool = False,
    unauthenticated_status: int = 403,
) -> Callable[[Request], Awaitable[Response]]:
    """The ASGI endpoint of a synchronous handler ``(request, grove, caller, params)``.

    The caller's key must allow ``scope`` (403 otherwise) and be within the rate limit
    (``server/rate_limit.py``: 429 with Retry-After); ``key_required``: a key is needed
    even where the REST API is open; a missing or wrong key answers ``unauthenticated_status``.
    Every method's parameters come from the query string and the body alike: oTree's REST page
    (``call_api``) sends them as a JSON body even on GET.
    """

    async def endpoint(request: Request) -> Response:
        app = grove(request)
        try:
            # The server's own key is checked here; only per-user keys need the database.
            caller = settings_key_caller(request)
            if caller is None:
                caller = await run_in_thread(
                    authenticate,
                    request,
                    unauthenticated_status,
                    key_required=key_required,
                )
            if not scope_allows(caller.scope, scope):  # the refusal names the request's URL
                require_scope(caller, scope, f"{request.method} {request.url.path}")
            await enforce_rate_limit(request, app, caller)
            raw = await read_parameters(request, app.settings.max_body_bytes)
            raw.pop("api_key", None)
            result = await run_in_thread(handler, request, app, caller, validate(params, raw))
        except RequestError as exc:
            errors = exc.errors or (
                [{"field": exc.field, "message": exc.message}] if exc.field else []
            )
            response = json_error(exc.status, exc.message, errors)
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
            return response
        except GroveError as exc:
            field = getattr(exc, "field", None)
            errors = [{"field": field, "message": str(exc)}] if field else []
            response = json_error(status_for(exc), str(exc), errors)
            response.headers.update(retry_after(exc))
            return response
        if isinstance(result, Response):
            return result
        return JSONResponse(jsonable(result))

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def absolute(request: Request, path: str) -> str:
    """An absolute URL on this server."""
    return str(request.base_url).rstrip("/") + path
