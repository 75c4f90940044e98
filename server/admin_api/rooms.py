"""``rooms/`` and ``room/{roomname}/``: rooms with their sessions and who waits, sessions
created in a room, closing a room, and rooms stored in the database (created, changed and
deleted here; settings.py's rooms are read-only: 409). Domain code: ``server/rooms.py``,
``server/stored_rooms.py``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.admin_api.models import (
    RoomChanged,
    RoomCreate,
    RoomInfo,
    RoomOnline,
    RoomSessionCreate,
    RoomSessionCreated,
    RoomUpdate,
)
from server.http.context import Grove
from server.rest.auth import Caller
from server.rest.endpoint import absolute
from server.rest.models import NoParameters
from server.rooms import RoomOverview, all_rooms, close_room, find_room, rooms_overview
from server.scripted_sessions import NewSession, create_scripted_session
from server.stored_rooms import create_stored_room, delete_stored_room, update_stored_room


def _info(request: Request, overview: RoomOverview) -> RoomInfo:
    room = overview.room
    return RoomInfo(
        name=room.name,
        display_name=room.display_name,
        defined_in="database" if room.stored else "settings",
        url=absolute(request, f"/room/{room.name}/"),
        labels=None if room.labels is None else sorted(room.labels),
        use_secure_urls=room.use_secure_urls,
        session_code=overview.session_code,
        waiting=overview.waiting,
    )


def _overview(app: Grove, name: str) -> RoomOverview:
    room = find_room(app.db, app.rooms, name)
    return rooms_overview(app.db, [room])[0]


def list_rooms(
    request: Request, app: Grove, caller: Caller, params: NoParameters
) -> dict[str, dict[str, Any]]:
    """Every room (settings.py's, then the stored ones by name) by name."""
    overviews = rooms_overview(app.db, all_rooms(app.db, app.rooms))
    return {o.room.name: _info(request, o).model_dump() for o in overviews}


def room_detail(request: Request, app: Grove, caller: Caller, params: NoParameters) -> RoomInfo:
    """One room (404 if unknown)."""
    return _info(request, _overview(app, request.path_params["roomname"]))


def room_online(request: Request, app: Grove, caller: Caller, params: NoParameters) -> RoomOnline:
    """Who waits in the room now (seen within the last few seconds)."""
    overview = _overview(app, request.path_params["roomname"])
    return RoomOnline(
        name=overview.room.name,
        session_code=overview.session_code,
        waiting=overview.waiting,
        num_waiting=len(overview.waiting),
    )


def create_room(request: Request, app: Grove, caller: Caller, params: RoomCreate) -> RoomChanged:
    """Store a new room (409 if the name is taken, by settings.py or the database)."""
    room = create_stored_room(
        app.db,
        app.rooms,
        params.name,
        display_name=params.display_name,
        participant_labels=params.labels,
        use_secure_urls=params.use_secure_urls,
        who=caller.who,
    )
    return RoomChanged.model_validate({"name": room.name, "created": True})


def update_room(request: Request, app: Grove, caller: Caller, params: RoomUpdate) -> RoomChanged:
    """Change a stored room without a session (409: a settings room, or one with a session)."""
    given = params.model_dump(exclude_unset=True)
    changes = {("participant_labels" if k == "labels" else k): v for k, v in given.items()}
    room = update_stored_room(
        app.db, app.rooms, request.path_params["roomname"], changes, who=caller.who
    )
    return RoomChanged.model_validate({"name": room.name, "updated": True})


def delete_room(request: Request, app: Grove, caller: Caller, params: NoParameters) -> RoomChanged:
    """Delete a stored room without a session (409: a settings room, or one with a session)."""
    name = request.path_params["roomname"]
    delete_stored_room(app.db, app.rooms, name, who=caller.who)
    return RoomChanged.model_validate({"name": name, "deleted": True})


def disassociate_room(
    request: Request, app: Grove, caller: Caller, params: NoParameters
) -> RoomChanged:
    """Close the room: its session stays, new visitors wait for the next one."""
    overview = _overview(app, request.path_params["roomname"])
    close_room(app.db, overview.room, who=caller.who)
    return RoomChanged.model_validate(
        {
            "name": overview.room.name,
            "disassociated": True,
            "session_code": overview.session_code,
        }
    )


def create_room_session(
    request: Request, app: Grove, caller: Caller, params: RoomSessionCreate
) -> RoomSessionCreated:
    """Create a session in the room (as ``POST sessions/`` with ``room``); the room's
    visitors join it."""
    room = find_room(app.db, app.rooms, request.path_params["roomname"])
    created = create_scripted_session(
        app.db,
        app.project,
        NewSession(
            config_name=params.config,
            num_participants=params.n_players,
            code=params.sname,
            labels=params.unames,
            modified_config=params.settings,
            room_name=room.name,
            label=params.label,
            description=params.description,
        ),
        who=caller.who,
    )
    return RoomSessionCreated(sname=created.session.code, roomname=room.name, created=True)
