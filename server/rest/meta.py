"""/api/otree_version, /api/session_configs, /api/rooms."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server import __version__
from server.http.context import Grove
from server.randomization.api_views import conceal_session_config
from server.rest.auth import Caller
from server.rest.endpoint import absolute, api_endpoint

OTREE_COMPATIBLE_VERSION = "6.0.15"


@api_endpoint(reads_body=False)
def otree_version(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """The oTree version whose API Grove follows, and Grove's own version."""
    return {"version": OTREE_COMPATIBLE_VERSION, "grove_version": __version__}


@api_endpoint(reads_body=False)
def session_configs(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """Every session config (merged with the defaults)."""
    return [conceal_session_config(c) for c in app.project.session_configs.values()]


@api_endpoint(reads_body=False)
def rooms(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """Every room with its URL."""
    return [
        {
            "name": room.get("name"),
            "display_name": room.get("display_name", room.get("name")),
            "has_participant_labels": bool(room.get("participant_label_file")),
            "url": absolute(request, f"/room/{room.get('name')}/"),
        }
        for room in app.settings.rooms
    ]
