"""/api/sessions/: create, list and read sessions (oTree's shapes)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from server.models.core import ExperimentSession
from server.rest.auth import Caller
from server.rest.body import require_fields
from server.rest.endpoint import absolute, api_endpoint
from server.rest.errors import RequestError
from server.sessions import create_session, get_session, list_sessions
from server.web.context import Grove

CREATE_FIELDS = ("session_config_name", "num_participants")
CREATE_OPTIONAL = ("label", "room_name", "modified_session_config_fields")


def session_summary(request: Request, session: ExperimentSession) -> dict[str, Any]:
    """The fields every listing shows of a session."""
    data = {
        "code": session.code,
        "config_name": session.config_name,
        "num_participants": session.num_participants,
        "label": session.label,
        "created_at": session.created_at.isoformat() if session.created_at else None,
        "session_wide_url": absolute(request, f"/join/{session.join_code}"),
        "admin_url": absolute(request, f"/SessionStartLinks/{session.code}"),
        "room_name": session.room_name,
    }
    return data


def _string_or_none(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise RequestError(400, f"{name} must be a string", name)
    return value


def _num_participants(value: Any) -> Any:
    # Form and query bodies carry strings: accept whole-number strings there.
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            return int(stripped)
        if stripped.lower() in ("", "null", "none"):
            return None
    return value


@api_endpoint()
def create(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """POST /api/sessions/: create a session (in a room, if room_name is given)."""
    require_fields(params, CREATE_FIELDS, CREATE_OPTIONAL)
    config_name = params["session_config_name"]
    if not isinstance(config_name, str):
        raise RequestError(400, "session_config_name must be a string", "session_config_name")
    with app.db.transaction() as db:
        session = create_session(
            db,
            app.project,
            config_name,
            _num_participants(params["num_participants"]),
            modified_session_config_fields=params.get("modified_session_config_fields"),
            room_name=_string_or_none(params, "room_name"),
            label=_string_or_none(params, "label"),
            created_by=caller.user,
        )
        data = {
            "code": session.code,
            "session_wide_url": absolute(request, f"/join/{session.join_code}"),
            "admin_url": absolute(request, f"/SessionStartLinks/{session.code}"),
        }
        if session.room_name:
            data["room_url"] = absolute(request, f"/room/{session.room_name}/")
    return JSONResponse(data)


@api_endpoint(reads_body=False)
def index(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """GET /api/sessions/: every session, newest last."""
    with app.db.read() as db:
        return [session_summary(request, s) for s in list_sessions(db)]


def _name_list(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [item for item in value.split(",") if item]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise RequestError(400, f"{name} must be a list of strings", name)


def session_detail(request: Request, app: Grove, code: str, params: dict[str, Any]) -> Any:
    """A session with its config, vars, participants and urn state."""
    require_fields(params, (), ("participant_labels", "participant_vars", "session_vars"))
    labels = _name_list(params.get("participant_labels"), "participant_labels")
    pvars = _name_list(params.get("participant_vars"), "participant_vars")
    svars = _name_list(params.get("session_vars"), "session_vars")
    from server.randomization.api_views import conceal_session_config, urn_state_for_session

    with app.db.read() as db:
        session = get_session(db, code)
        participants = []
        for participant in session.get_participants():
            if labels is not None and participant.label not in labels:
                continue
            values = participant.vars or {}
            participants.append(
                {
                    "code": participant.code,
                    "id_in_session": participant.id_in_session,
                    "label": participant.label,
                    "vars": values if pvars is None else {k: values.get(k) for k in pvars},
                    "payoff": float(participant.payoff),
                    "payoff_in_real_world_currency": float(
                        participant.payoff_in_real_world_currency()
                    ),
                    "current_app": participant.current_app,
                    "current_page_name": participant.current_page_name,
                    "round_number": participant.current_round,
                    "finished": participant.finished,
                    "visited": participant.visited,
                }
            )
        session_vars = session.vars or {}
        data = session_summary(request, session)
        data.update(
            config=conceal_session_config(session.config),
            vars=session_vars if svars is None else {k: session_vars.get(k) for k in svars},
            REAL_WORLD_CURRENCY_CODE=app.settings.real_world_currency_code,
            participants=participants,
            urn=urn_state_for_session(db, session, show_seed=False),
        )
        return data


@api_endpoint(reads_body=False)
def detail(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """GET /api/sessions/<code>."""
    return session_detail(request, app, request.path_params["code"], params)


@api_endpoint()
def get_session_post(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """POST /api/get_session/<code> (oTree's spelling)."""
    return session_detail(request, app, request.path_params["code"], params)
