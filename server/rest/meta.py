"""/api/otree_version, /api/session_configs, /api/rooms."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server import __version__
from server.http.context import Grove
from server.randomization.api_views import conceal_session_config
from server.rest.auth import Caller
from server.rest.body import require_fields
from server.rest.endpoint import absolute, api_endpoint
from server.rooms import room_session_codes

OTREE_COMPATIBLE_VERSION = "6.0.15"


@api_endpoint()
def otree_version(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """The oTree version whose API Grove follows, and Grove's own version."""
    require_fields(params, ())
    return {"version": OTREE_COMPATIBLE_VERSION, "grove_version": __version__}


@api_endpoint()
def session_configs(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """Every session config (merged with the defaults)."""
    require_fields(params, ())
    return [conceal_session_config(c) for c in app.project.session_configs.values()]


@api_endpoint()
def rooms(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """Every room with its URL and the code of its current session (None while it has none)."""
    require_fields(params, ())
    all_rooms = list(app.rooms.values())
    codes = room_session_codes(app.db, all_rooms)
    return [
        {
            "name": room.name,
            "session_code": codes[room.name],
            "url": absolute(request, f"/room/{room.name}/"),
            "display_name": room.display_name,
            "has_participant_labels": room.has_labels,
        }
        for room in all_rooms
    ]
