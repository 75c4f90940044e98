"""/api/otree_version, /api/session_configs, /api/rooms, /api/apps."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server import __version__
from server.http.context import Grove
from server.randomization.api_views import conceal_session_config
from server.rest.auth import Caller
from server.rest.endpoint import absolute
from server.rest.models import NoParameters, Room, Version
from server.rooms import all_rooms, room_session_codes

OTREE_COMPATIBLE_VERSION = "6.0.15"


def otree_version(request: Request, app: Grove, caller: Caller, params: NoParameters) -> Version:
    """The oTree version whose API Grove follows, and Grove's own version."""
    return Version(version=OTREE_COMPATIBLE_VERSION, grove_version=__version__)


def session_configs(request: Request, app: Grove, caller: Caller, params: NoParameters) -> Any:
    """Every session config (merged with the defaults)."""
    return [conceal_session_config(c) for c in app.project.session_configs.values()]


def apps(request: Request, app: Grove, caller: Caller, params: NoParameters) -> dict[str, str]:
    """Each app of the project, by name, with its module's ``doc`` ("" without one), as oTree
    6.0.15's ``GET /api/apps`` answers."""
    listing: dict[str, str] = {}
    for name, loaded in app.project.apps.items():
        doc = getattr(loaded.module, "doc", "")
        listing[name] = doc if isinstance(doc, str) else str(doc)
    return listing


def rooms(request: Request, app: Grove, caller: Caller, params: NoParameters) -> list[Room]:
    """Every room with its URL and the code of its current session (None while it has none)."""
    rooms = all_rooms(app.db, app.rooms)
    codes = room_session_codes(app.db, rooms)
    return [
        Room(
            name=room.name,
            session_code=codes[room.name],
            url=absolute(request, f"/room/{room.name}/"),
            display_name=room.display_name,
            has_participant_labels=room.has_labels,
        )
        for room in rooms
    ]
