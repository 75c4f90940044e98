"""/api/participant_vars/ and /api/session_vars/: by room (+ label) or by code."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.participant_vars import (
    set_participant_vars_by_code,
    set_participant_vars_by_label,
    set_session_vars_by_code,
    set_session_vars_by_room,
)
from server.rest.auth import Caller
from server.rest.body import require_fields
from server.rest.endpoint import api_endpoint
from server.http.context import Grove


@api_endpoint()
def participant_vars(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """POST /api/participant_vars/ with room_name, participant_label, vars."""
    require_fields(params, ("room_name", "participant_label", "vars"))
    with app.db.transaction() as db:
        participant = set_participant_vars_by_label(
            db,
            app.project,
            params["room_name"],
            params["participant_label"],
            params["vars"],
            user=caller.user,
        )
        return {"ok": True, "applied": participant is not None, "pending": participant is None}


@api_endpoint()
def participant_vars_by_code(
    request: Request, app: Grove, caller: Caller, params: dict[str, Any]
) -> Any:
    """POST /api/participant_vars/<participant code> with vars."""
    require_fields(params, ("vars",))
    with app.db.transaction() as db:
        set_participant_vars_by_code(db, request.path_params["code"], params["vars"])
        return {"ok": True, "applied": True, "pending": False}


@api_endpoint()
def session_vars(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """POST /api/session_vars/ with room_name, vars."""
    require_fields(params, ("room_name", "vars"))
    with app.db.transaction() as db:
        session = set_session_vars_by_room(db, app.project, params["room_name"], params["vars"])
        return {"ok": True, "code": session.code}


@api_endpoint()
def session_vars_by_code(
    request: Request, app: Grove, caller: Caller, params: dict[str, Any]
) -> Any:
    """POST /api/session_vars/<session code> with vars."""
    require_fields(params, ("vars",))
    with app.db.transaction() as db:
        session = set_session_vars_by_code(db, request.path_params["code"], params["vars"])
        return {"ok": True, "code": session.code}
