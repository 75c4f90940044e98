"""Routes matched as a Starlette ``Router`` matches them, but only among those that can match.

A ``Router`` tries each route's pattern in turn: the REST API's table has 42 routes, and a
request for one of the last paid a regular expression for each before it (about 20 us of a
participant_vars post). ``IndexedRoutes`` groups the routes by the first segment of their
path (``/participant_vars/{code}``: ``participant_vars``), known from the path's text before
any ``{`` parameter, and tries only the routes of the request's first segment and those whose
first segment is a parameter or unknown, in their order: the same first full match, else the
same first partial one (a path served with another method: 405).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

# Where ``matches`` leaves the route it found for ``handle`` (the router merges the child
# scope into the request's scope before it calls ``handle``).
_MATCHED = "grove.matched_route"


def route_segment(route: BaseRoute) -> str | None:
    """The first segment of every path ``route`` matches (``""`` for ``/`` alone), or None
    when it is a parameter or the route has no path (any path may match)."""
    path = getattr(route, "path", None)
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    literal = path.split("{", 1)[0]
    head, slash, _rest = literal[1:].partition("/")
    if slash or literal == path:
        return head
    return None


def path_segment(route_path: str) -> str | None:
    """The first segment of a request's route path (None: not a path starting with ``/``)."""
    if not route_path.startswith("/"):
        return None
    return route_path[1:].partition("/")[0]


class IndexedRoutes(BaseRoute):
    """``routes`` as one route that matches as a ``Router`` over them would (module
    docstring)."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = list(routes)
        keyed = [(route_segment(route), route) for route in self.routes]
        self._anywhere = [route for segment, route in keyed if segment is None]
        self._by_segment = {
            wanted: [route for segment, route in keyed if segment in (None, wanted)]
            for wanted in {segment for segment, _route in keyed if segment is not None}
        }

    def _candidates(self, scope: Scope) -> list[BaseRoute]:
        segment = path_segment(get_route_path(scope))
        if segment is None:
            return self.routes
        return self._by_segment.get(segment, self._anywhere)

    def _match(self, scope: Scope) -> tuple[Match, Scope, BaseRoute | None]:
        partial: tuple[Scope, BaseRoute] | None = None
        for route in self._candidates(scope):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return match, child_scope, route
            if match is Match.PARTIAL and partial is None:
                partial = (child_scope, route)
        if partial is not None:
            return Match.PARTIAL, partial[0], partial[1]
        return Match.NONE, {}, None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope, route = self._match(scope)
        if route is not None:
            child_scope = {**child_scope, _MATCHED: route}
        return match, child_scope

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope.pop(_MATCHED, None)
        if route is None:  # called without ``matches`` (as a stand-alone app)
            _match, child_scope, route = self._match(scope)
            if route is None:
                raise NoMatchFound(scope.get("path", ""), {})
            scope.update(child_scope)
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)
