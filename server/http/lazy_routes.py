"""Route tables built on their first request instead of at start-up.

The REST and admin APIs' tables import their pydantic models (a few tenths of a second),
which a bot run (``python -m server test``) and a page-only worker never use. Each table is
built once per process, under a lock (the first request may come from any thread); the first
request to reach it waits for the build, in the event loop's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, Mount, Router
from starlette.types import Receive, Scope, Send

from server.http.route_index import IndexedRoutes


class _Built:
    """``load()``'s routes, indexed (``IndexedRoutes``) once, whichever thread asks first."""

    def __init__(self, load: Callable[[], Sequence[BaseRoute]]) -> None:
        self._load = load
        self._index: IndexedRoutes | None = None
        self._lock = threading.Lock()

    def index(self) -> IndexedRoutes:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = IndexedRoutes(self._load())
        return self._index

    def routes(self) -> list[BaseRoute]:
        return self.index().routes


class LazyRouter:
    """An ASGI app for ``Mount(path, app=LazyRouter(load))``: a Starlette ``Router`` of the
    routes ``load()`` returns, made on the first request (or the first read of ``routes``).
    It answers as ``Mount(path, routes=load())`` does."""

    def __init__(self, load: Callable[[], Sequence[BaseRoute]]) -> None:
        self._built = _Built(load)
        self._router: Router | None = None

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes, built now if not yet."""
        return self._built.routes()

    def build(self) -> None:
        """Build the table now, if not yet."""
        if self._router is None:
            self._router = Router(routes=[self._built.index()])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._router is None:
            self.build()
        assert self._router is not None
        await self._router(scope, receive, send)


class LazyRoutes(BaseRoute):
    """Plain ``Route``s (no ``Mount``) at the top level, made on the first request that gets
    this far in the route list. Matches as the routes themselves would, in their order: the
    first full match, else the first partial one (a path served with another method: 405).
    Put it after every route whose name is looked up (``url_path_for`` builds it)."""

    def __init__(self, load: Callable[[], Sequence[BaseRoute]]) -> None:
        self._built = _Built(load)

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes, built now if not yet."""
        return self._built.routes()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return self._built.index().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._built.index().handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self._built.index().url_path_for(name, **path_params)


def build_now(routes: Iterable[BaseRoute]) -> int:
    """Build every lazy table in ``routes`` (the app's top-level route list) now, as a
    server's worker does at start-up, so that its first API request does not wait for the
    build in the event loop's thread. Returns how many tables there were."""
    built = 0
    for route in routes:
        if isinstance(route, LazyRoutes):
            route.routes  # noqa: B018 (built on first read)
            built += 1
        elif isinstance(route, Mount) and isinstance(route.app, LazyRouter):
            route.app.build()
            built += 1
    return built
