"""/api/participant_vars/ and /api/session_vars/: by room (+ label) or by code."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.http.context import Grove
from server.participant_vars import (
    set_participant_vars_by_code,
    set_participant_vars_by_label,
    set_session_vars_by_code,
    set_session_vars_by_room,
)
from server.rest.auth import Caller
from server.rest.body import require_fields
from server.rest.endpoint import api_endpoint


@api_endpoint()
def participant_vars(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """POST /api/participant_vars/ with room_name, participant_label, vars."""
    require_fields(params, ("room_name", "participant_label", "vars"))
    applied = set_participant_vars_by_label(
        app.db,
        app.project,
        params["room_name"],
        params["participant_label"],
        params["vars"],
        user=caller.user,
    )
    return {"ok": True, "applied": applied, "pending": not applied}


@api_endpoint()
def participant_vars_by_code(
    request: Request, app: Grove, caller: Caller, params: dict[str, Any]
) -> Any:
    """POST /api/participant_vars/<participant code> with vars."""
    require_fields(params, ("vars",))
    set_participant_vars_by_code(app.db, request.path_params["code"], params["vars"])
    return {"ok": True, "applied": True, "pending": False}


@api_endpoint()
def session_vars(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """POST /api/session_vars/ with room_name, vars."""
    require_fields(params, ("room_name", "vars"))
    code = set_session_vars_by_room(app.db, app.project, params["room_name"], params["vars"])
    return {"ok": True, "code": code}


@api_endpoint()
def session_vars_by_code(
    request: Request, app: Grove, caller: Caller, params: dict[str, Any]
) -> Any:
    """POST /api/session_vars/<session code> with vars."""
    require_fields(params, ("vars",))
    code = set_session_vars_by_code(app.db, request.path_params["code"], params["vars"])
    return {"ok": True, "code": code}
