"""/api/sessions/: create, list and read sessions (oTree's shapes)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from server.http.context import Grove
from server.rest.auth import Caller
from server.rest.body import require_fields
from server.rest.endpoint import absolute, api_endpoint
from server.rest.errors import RequestError
from server.session_reports import (
    SessionSummary,
    create_session_now,
    session_detail,
    session_summaries,
)
from server.sessions import MAX_PARTICIPANTS

CREATE_FIELDS = ("session_config_name", "num_participants")
CREATE_OPTIONAL = ("label", "room_name", "modified_session_config_fields")


def session_summary(request: Request, summary: SessionSummary) -> dict[str, Any]:
    """The fields every listing shows of a session, with absolute URLs."""
    return {
        "code": summary.code,
        "config_name": summary.config_name,
        "num_participants": summary.num_participants,
        "label": summary.label,
        "created_at": summary.created_at,
        "session_wide_url": absolute(request, summary.session_wide_path),
        "admin_url": absolute(request, summary.admin_path),
        "room_name": summary.room_name,
    }


def _string_or_none(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise RequestError(400, f"{name} must be a string", name)
    return value


def _num_participants(value: Any) -> Any:
    # Form and query bodies carry strings: accept whole-number strings there.
    if isinstance(value, str):
        stripped = value.strip()
        digits = stripped.removeprefix("-")
        # ASCII digits only ("²" is a digit to isdigit), and few enough that int() reads
        # them: any longer number is refused by the range check all the same.
        if digits.isascii() and digits.isdigit():
            if len(digits) > 18:
                return -1 if stripped.startswith("-") else MAX_PARTICIPANTS + 1
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
    created = create_session_now(
        app.db,
        app.project,
        config_name,
        _num_participants(params["num_participants"]),
        modified_session_config_fields=params.get("modified_session_config_fields"),
        room_name=_string_or_none(params, "room_name"),
        label=_string_or_none(params, "label"),
        created_by=caller.user,
    )
    data = {
        "code": created.code,
        "session_wide_url": absolute(request, created.session_wide_path),
        "admin_url": absolute(request, created.admin_path),
    }
    if created.room_path:
        data["room_url"] = absolute(request, created.room_path)
    return JSONResponse(data)


@api_endpoint()
def index(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """GET /api/sessions/: every session, newest last."""
    require_fields(params, ())
    return [session_summary(request, s) for s in session_summaries(app.db)]


def _name_list(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [item for item in value.split(",") if item]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise RequestError(400, f"{name} must be a list of strings", name)


def session_detail_json(request: Request, app: Grove, code: str, params: dict[str, Any]) -> Any:
    """A session with its config, vars, participants and urn state.

    The filters come from the query string or the body, whatever the method. As in oTree, each
    requested participant var (session var) that is set is also a key of the participant (the
    session), beside ``vars``, unless it would hide one of the fields above.
    """
    require_fields(params, (), ("participant_labels", "participant_vars", "session_vars"))
    participant_vars = _name_list(params.get("participant_vars"), "participant_vars")
    session_vars = _name_list(params.get("session_vars"), "session_vars")
    summary, details = session_detail(
        app.db,
        code,
        participant_labels=_name_list(params.get("participant_labels"), "participant_labels"),
        participant_vars=participant_vars,
        session_vars=session_vars,
    )
    data = session_summary(request, summary)
    data.update(
        config=details["config"],
        vars=details["vars"],
        REAL_WORLD_CURRENCY_CODE=app.settings.real_world_currency_code,
        participants=details["participants"],
        urn=details["urn"],
    )
    for participant in data["participants"]:
        _flatten(participant, participant["vars"], participant_vars)
    _flatten(data, data["vars"], session_vars)
    return data


def _flatten(target: dict[str, Any], values: dict[str, Any], names: list[str] | None) -> None:
    for name in names or ():
        if name in values and name not in target:  # the filtered vars hold only set ones
            target[name] = values[name]


@api_endpoint()
def detail(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """GET /api/sessions/<code>, filters in the query string or (oTree's call_api) the body."""
    return session_detail_json(request, app, request.path_params["code"], params)


@api_endpoint()
def get_session_post(request: Request, app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    """POST /api/get_session/<code> (oTree's spelling)."""
    return session_detail_json(request, app, request.path_params["code"], params)
