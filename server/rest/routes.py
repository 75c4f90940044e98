"""The route lists of the REST API: every path with and without its trailing slash."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.rest import export_api, meta, openapi, sessions, urn_api
from server.rest import vars as vars_api


def both(path: str, endpoint: Callable, methods: list[str]) -> list[BaseRoute]:
    """The route at ``path`` and at ``path/``, so neither redirects."""
    return [Route(path, endpoint, methods=methods), Route(path + "/", endpoint, methods=methods)]


async def _sessions_root(request: Request) -> Response:
    if request.method == "POST":
        return await sessions.create(request)
    return await sessions.index(request)


api_routes: list[BaseRoute] = [
    *both("/sessions", _sessions_root, ["GET", "POST"]),
    *both("/sessions/{code:str}", sessions.detail, ["GET"]),
    *both("/sessions/{code:str}/randomize", urn_api.randomize_in_session, ["POST"]),
    *both("/sessions/{code:str}/data", export_api.session_data, ["GET"]),
    *both("/export/{table:str}", export_api.export_table, ["GET"]),
    *both("/export/{table:str}/{function:str}", export_api.export_custom, ["GET"]),
    *both("/get_session/{code:str}", sessions.get_session_post, ["POST"]),
    *both("/participant_vars", vars_api.participant_vars, ["POST"]),
    *both("/participant_vars/{code:str}", vars_api.participant_vars_by_code, ["POST"]),
    *both("/session_vars", vars_api.session_vars, ["POST"]),
    *both("/session_vars/{code:str}", vars_api.session_vars_by_code, ["POST"]),
    *both("/otree_version", meta.otree_version, ["GET"]),
    *both("/session_configs", meta.session_configs, ["GET"]),
    *both("/rooms", meta.rooms, ["GET"]),
    *both("/openapi.json", openapi.openapi_json, ["GET"]),
    *both("/docs", openapi.docs_page, ["GET"]),
]

urn_reference_routes: list[BaseRoute] = [
    *both("/study_config", urn_api.study_config, ["GET"]),
    *both("/study_participants", urn_api.study_participants, ["GET", "POST"]),
]
