"""/api/participant_vars/ and /api/session_vars/: by room (+ label) or by code."""

from __future__ import annotations

from starlette.requests import Request

from server.http.context import Grove
from server.participant_vars import (
    set_participant_vars_by_code,
    set_participant_vars_by_label,
    set_session_vars_by_code,
    set_session_vars_by_room,
)
from server.rest.auth import Caller
from server.rest.models import (
    ParticipantVarsByLabel,
    SessionVarsByRoom,
    SessionVarsSet,
    VarsOnly,
    VarsSet,
)


def participant_vars(
    request: Request, app: Grove, caller: Caller, params: ParticipantVarsByLabel
) -> VarsSet:
    """POST /api/participant_vars/ with room_name, participant_label, vars."""
    applied = set_participant_vars_by_label(
        app.db,
        app.project,
        params.room_name,
        params.participant_label,
        params.vars,
        who=caller.who,
    )
    return VarsSet(ok=True, applied=applied, pending=not applied)


def participant_vars_by_code(
    request: Request, app: Grove, caller: Caller, params: VarsOnly
) -> VarsSet:
    """POST /api/participant_vars/<participant code> with vars."""
    set_participant_vars_by_code(app.db, request.path_params["code"], params.vars, who=caller.who)
    return VarsSet(ok=True, applied=True, pending=False)


def session_vars(
    request: Request, app: Grove, caller: Caller, params: SessionVarsByRoom
) -> SessionVarsSet:
    """POST /api/session_vars/ with room_name, vars."""
    code = set_session_vars_by_room(
        app.db, app.project, params.room_name, params.vars, who=caller.who
    )
    return SessionVarsSet(ok=True, code=code)


def session_vars_by_code(
    request: Request, app: Grove, caller: Caller, params: VarsOnly
) -> SessionVarsSet:
    """POST /api/session_vars/<session code> with vars."""
    code = set_session_vars_by_code(
        app.db, request.path_params["code"], params.vars, who=caller.who
    )
    return SessionVarsSet(ok=True, code=code)
