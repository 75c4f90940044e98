"""One table maps domain errors to HTTP statuses; API paths get JSON, pages get HTML."""

from __future__ import annotations

import logging

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from server.errors import (
    ConfigurationError,
    GroveError,
    InvalidArguments,
    NotFound,
    SessionFull,
)
from server.templating import TemplateRenderError
from server.http.context import grove

logger = logging.getLogger("grove")

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (InvalidArguments, 400),
    (SessionFull, 409),
    (ConfigurationError, 400),
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


def _wants_json(request: Request) -> bool:
    # The API, the urn API, and the status URLs that wait pages and room pages poll.
    path = request.url.path
    return (
        path.startswith(("/api", "/study_"))
        or path.endswith("/status")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


async def handle_grove_error(request: Request, exc: Exception) -> Response:
    """Domain errors: the mapped status with a message that says what is wrong."""
    status = status_for(exc)
    if _wants_json(request):
        field = getattr(exc, "field", None)
        errors = [{"field": field, "message": str(exc)}] if field else []
        return json_error(status, str(exc), errors)
    title = "Not found" if status == 404 else "Cannot continue"
    return grove(request).message_page(title, str(exc), status_code=status)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 errors, in the same shapes."""
    assert isinstance(exc, HTTPException)
    response: Response
    if _wants_json(request):
        response = json_error(exc.status_code, str(exc.detail))
    else:
        response = HTMLResponse(
            f"<h1>{exc.status_code}</h1><p>{jinja2.utils.markupsafe.escape(exc.detail)}</p>",
            status_code=exc.status_code,
        )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """A bug in Grove or in an app: log it; show details only when not in production."""
    logger.exception("error while serving %s %s", request.method, request.url.path)
    if _wants_json(request):
        return json_error(500, "internal server error")
    app = grove(request)
    detail = "" if app.settings.production else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, jinja2.TemplateSyntaxError) and not app.settings.production:
        detail = f"Template error in {exc.filename}, line {exc.lineno}: {exc.message}"
    elif isinstance(exc, TemplateRenderError) and not app.settings.production:
        detail = f"Template error in {exc}"
    return app.message_page("Server error", detail or "Something went wrong.", status_code=500)
