"""The route index (server/http/route_index.py) answers every request as Starlette's router
over the same list would: the same route (the first full match, else the first partial one),
the same path parameters, the same 404 and 405, with and without a trailing slash."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.testclient import TestClient

from server.http.lazy_routes import LazyRouter, LazyRoutes
from server.http.route_index import IndexedRoutes, route_segment


def answer(name: str) -> Any:
    async def endpoint(request: Any) -> Response:
        return PlainTextResponse(f"{name} {dict(request.path_params)}")

    return endpoint


def test_a_parameter_first_segment_keeps_its_place_in_the_order() -> None:
    before = [Route("/{name}", answer("param")), Route("/fixed", answer("fixed"))]
    after = [Route("/fixed", answer("fixed")), Route("/{name}", answer("param"))]
    assert [route_segment(route) for route in after] == ["fixed", None]
    for routes, expected in ((before, "param {'name': 'fixed'}"), (after, "fixed {}")):
        client = TestClient(Starlette(routes=[IndexedRoutes(routes)]))
        assert client.get("/fixed").text == expected
        assert client.get("/other").text == "param {'name': 'other'}"


def test_a_path_served_with_another_method_is_405_and_an_unknown_one_404() -> None:
    routes = [
        Route("/vars/{code}", answer("vars"), methods=["POST"]),
        Route("/vars/{code}/", answer("vars"), methods=["POST"]),
        Route("/other", answer("other")),
    ]
    client = TestClient(Starlette(routes=[IndexedRoutes(routes)]))
    assert client.post("/vars/abc").text == "vars {'code': 'abc'}"
    assert client.post("/vars/abc/").text == "vars {'code': 'abc'}"
    assert client.put("/vars/abc").status_code == 405
    assert client.get("/nothing").status_code == 404
    assert client.get("/").status_code == 404


def _reference(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[Match, Any, dict]:
    """Starlette's own rule: the first full match in order, else the first partial one."""
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return match, route, child
        if match is Match.PARTIAL and partial is None:
            partial = (match, route, child)
    return partial or (Match.NONE, None, {})


def _paths(routes: list[BaseRoute]) -> list[str]:
    """Paths that reach each route, with and without a trailing slash, and some that reach
    none: every ``{parameter}`` filled with text."""
    paths = ["", "/", "/unknown", "/unknown/x/", "//", "/p", "/p/"]
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str):
            filled = re.sub(r"\{[^}]*\}", "abc", path) or "/"
            paths += [filled, filled.rstrip("/") or "/", filled.rstrip("/") + "/", filled + "/x"]
    return paths


@pytest.mark.parametrize("table", ["app", "api"])
def test_the_app_and_the_api_match_every_path_as_a_plain_router_would(app: Any, table: str) -> None:
    routes = list(app.routes)
    if table == "api":
        [mount] = [r for r in routes if isinstance(r, Mount) and r.path == "/api"]
        assert isinstance(mount.app, LazyRouter)
        routes = mount.routes
    index = IndexedRoutes(routes)
    for route in routes:
        if isinstance(route, LazyRoutes):
            route.routes  # noqa: B018 (built, so that both sides see the same tables)
    checked = 0
    for path in _paths(routes):
        for method in ("GET", "POST", "PUT"):
            scope = {"type": "http", "path": path, "root_path": "", "method": method}
            expected_match, expected_route, expected_child = _reference(routes, scope)
            match, child = index.matches(scope)
            found = child.pop("grove.matched_route", None)
            assert (match, found) == (expected_match, expected_route), (method, path)
            assert child == expected_child, (method, path)
            checked += 1
    assert checked > 100
    # Starlette's router over the index redirects a missing or extra slash as before.
    assert Router(routes=[index]).redirect_slashes
