"""One table maps domain errors to HTTP statuses; one list says which paths answer JSON.

JSON or HTML is decided by the URL's route family (as Datasette does), never by guessing
from headers: a page's script that reads JSON gets JSON whatever went wrong.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.errors import (
    ConfigurationError,
    Conflict,
    DatabaseUnavailable,
    GroveError,
    InvalidArguments,
    NotFound,
    RateLimited,
    SessionFull,
)
from server.http.context import grove
from server.templating import TemplateRenderError

logger = logging.getLogger("grove")

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (InvalidArguments, 400),
    (SessionFull, 409),
    (RateLimited, 429),
    (Conflict, 409),
    (ConfigurationError, 400),
    (DatabaseUnavailable, 503),
    (GroveError, 400),
]


def status_for(exc: Exception) -> int:
    """The HTTP status of a domain error."""
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(exc, error_class):
            return status
    return 500


def json_error(status: int, message: str, errors: list[dict] | None = None) -> JSONResponse:
    """The one JSON error body of the whole API."""
    return JSONResponse(
        {"ok": False, "status": status, "error": message, "errors": errors or []},
        status_code=status,
    )


def reference_error(status: int, message: str, errors: list[dict] | None = None) -> JSONResponse:
    """An error in the reference urn API's shape (``/study_...``), which its clients read."""
    return JSONResponse({"message": message, "results": [], "status": status}, status_code=status)


@dataclass(frozen=True)
class RouteFamily:
    """Paths that answer errors as JSON, because a script, not a person, reads them."""

    name: str
    path: re.Pattern[str]
    error_body: Callable[[int, str, list[dict] | None], JSONResponse] = json_error


# Every URL a program or a page's script (server/static/*.js) calls. Any other path is a page
# a person reads, and its errors are HTML pages.
JSON_ROUTE_FAMILIES = [
    RouteFamily("REST API", re.compile(r"/api(/.*)?")),
    RouteFamily("admin API", re.compile(r"/admin/api(/.*)?")),
    RouteFamily("reference urn API", re.compile(r"/study_[^/]*/?"), reference_error),
    RouteFamily("wait page status (grove.js)", re.compile(r"/p/[^/]*/[^/]*/[^/]*/[^/]*/status/?")),
    RouteFamily("room status (grove-room.js)", re.compile(r"/room/[^/]*/status/?")),
    RouteFamily("chat (grove-chat.js)", re.compile(r"/p/[^/]*/chat/?")),
    RouteFamily("session monitor (grove-monitor.js)", re.compile(r"/SessionMonitor/[^/]*/data/?")),
]


def json_family(path: str) -> RouteFamily | None:
    """The JSON route family ``path`` belongs to; None for a page."""
    for family in JSON_ROUTE_FAMILIES:
        if family.path.fullmatch(path):
            return family
    return None


def error_response(
    request: Request, status: int, message: str, field: str | None = None
) -> Response:
    """An error in the shape of the request's route family: a JSON body, or an HTML page."""
    family = json_family(request.url.path)
    if family is not None:
        return family.error_body(
            status, message, [{"field": field, "message": message}] if field else []
        )
    title = "Not found" if status == 404 else "Cannot continue"
    return grove(request).message_page(title, message, status_code=status)


async def handle_grove_error(request: Request, exc: Exception) -> Response:
    """Domain errors: the mapped status with a message that says what is wrong (and, for a
    busy database, when to try again)."""
    response = error_response(request, status_for(exc), str(exc), getattr(exc, "field", None))
    response.headers.update(retry_after(exc))
    return response


def retry_after(exc: Exception) -> dict[str, str]:
    """The ``Retry-After`` header for an error that may pass (DatabaseBusy), else none."""
    seconds = getattr(exc, "retry_after_seconds", None)
    return {"Retry-After": str(seconds)} if seconds is not None else {}


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 errors, in the same shapes."""
    assert isinstance(exc, HTTPException)
    response = error_response(request, exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """A bug in Grove or in an app: log it; show details only when not in production."""
    logger.exception("error while serving %s %s", request.method, request.url.path)
    app = grove(request)
    family = json_family(request.url.path)
    if family is not None:
        # The devserver says what was raised, and where in the project (oTree's devserver
        # answers such a REST call with the traceback): a script creating sessions learns
        # that creating_session failed, and why.
        detail = ""
        if not app.settings.production:
            detail = f": {type(exc).__name__}: {exc}{_where_in_project(exc, app.settings.root)}"
        return family.error_body(500, "internal server error" + detail, [])
    detail = "" if app.settings.production else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, jinja2.TemplateSyntaxError) and not app.settings.production:
        detail = f"Template error in {exc.filename}, line {exc.lineno}: {exc.message}"
    elif isinstance(exc, TemplateRenderError) and not app.settings.production:
        detail = f"Template error in {exc}"
    elif detail:
        detail += _where_in_project(exc, app.settings.root)
    return app.message_page("Server error", detail or "Something went wrong.", status_code=500)


# Grove's own code, which a project folder holds when it is Grove's repository.
GROVE_PACKAGES = Path(__file__).resolve().parents[1]


def _where_in_project(exc: BaseException, root: Path) -> str:
    """Where the project's own code raised ``exc`` (its innermost frame in a file of the
    project folder, outside environments), as oTree's debug page shows it; "" if nowhere."""
    root = root.resolve()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if not path.is_relative_to(root) or path.is_relative_to(GROVE_PACKAGES):
            continue
        relative = path.relative_to(root)
        if any(part in ("site-packages", "dist-packages") for part in relative.parts):
            continue
        return f" (in {relative.as_posix()}, line {frame.lineno}, in {frame.name})"
    return ""
