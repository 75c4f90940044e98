"""Starlette routes made from ``Endpoint`` declarations: one route per path, with and
without its trailing slash, each method's handler wrapped by ``serve`` (key, scope,
parameters, one error shape)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.rest.endpoint import serve
from server.rest.spec import Endpoint


def _dispatch(
    by_method: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await by_method[method](request)

    return endpoint


def routes(
    endpoints: Sequence[Endpoint],
    prefix: str = "",
    *,
    key_required: bool = False,
    unauthenticated_status: int = 403,
) -> list[BaseRoute]:
    """The routes of ``endpoints`` under ``prefix``: one per path, with and without its slash.

    Each checks the caller's key against the endpoint's scope (``serve``); ``key_required``
    and ``unauthenticated_status`` as there.
    """
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for endpoint in endpoints:
        path = endpoint.path.removeprefix(prefix).rstrip("/")
        asgi = (
            endpoint.handler
            if endpoint.raw
            else serve(
                endpoint.handler,
                endpoint.params,
                scope=endpoint.required_scope,
                key_required=key_required,
                unauthenticated_status=unauthenticated_status,
            )
        )
        by_path.setdefault(path, {})[endpoint.method] = asgi
    table: list[BaseRoute] = []
    for path, by_method in by_path.items():
        handler = _dispatch(by_method)
        table += [
            Route(path, handler, methods=list(by_method)),
            Route(path + "/", handler, methods=list(by_method)),
        ]
    return table
