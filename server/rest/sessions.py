"""/api/sessions/: create, list and read sessions (oTree's shapes)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.http.context import Grove
from server.rest.auth import Caller
from server.rest.endpoint import absolute
from server.rest.models import (
    Created,
    CreateSession,
    NoParameters,
    SessionFilters,
    SessionSummary,
)
from server.session_reports import SessionSummary as Summary
from server.session_reports import (
    create_session_now,
    session_detail,
    session_summaries,
)


def session_summary(request: Request, summary: Summary) -> dict[str, Any]:
    """The fields every listing shows of a session, with absolute URLs; ``room_url`` only for
    a session in a room (oTree 6.0.15 leaves the key out otherwise)."""
    shown = SessionSummary(
        code=summary.code,
        config_name=summary.config_name,
        num_participants=summary.num_participants,
        label=summary.label,
        created_at=summary.created_at,
        session_wide_url=absolute(request, summary.session_wide_path),
        admin_url=absolute(request, summary.admin_path),
        room_name=summary.room_name,
        room_url=absolute(request, summary.room_path) if summary.room_path else None,
    )
    return shown.model_dump(exclude={"room_url"} if shown.room_url is None else None)


def create(request: Request, app: Grove, caller: Caller, params: CreateSession) -> Created:
    """POST /api/sessions/: create a session (in a room, if room_name is given)."""
    created = create_session_now(
        app.db,
        app.project,
        params.session_config_name,
        params.num_participants,
        modified_session_config_fields=params.modified_session_config_fields,
        room_name=params.room_name,
        label=params.label,
        who=caller.who,
    )
    answer = Created(
        code=created.code,
        session_wide_url=absolute(request, created.session_wide_path),
        admin_url=absolute(request, created.admin_path),
    )
    if created.room_path:
        answer.room_url = absolute(request, created.room_path)
    return answer


def index(request: Request, app: Grove, caller: Caller, params: NoParameters) -> Any:
    """GET /api/sessions/: every session, newest last."""
    return [session_summary(request, s) for s in session_summaries(app.db)]


def session_detail_json(request: Request, app: Grove, code: str, params: SessionFilters) -> Any:
    """A session with its config, vars, participants and urn state.

    The filters come from the query string or the body, whatever the method. As in oTree, each
    requested participant var (session var) that is set is also a key of the participant (the
    session), beside ``vars``, unless it would hide one of the fields above.
    """
    summary, details = session_detail(
        app.db,
        code,
        participant_labels=params.participant_labels,
        participant_vars=params.participant_vars,
        session_vars=params.session_vars,
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
        _flatten(participant, participant["vars"], params.participant_vars)
    _flatten(data, data["vars"], params.session_vars)
    return data


def _flatten(target: dict[str, Any], values: dict[str, Any], names: list[str] | None) -> None:
    for name in names or ():
        if name in values and name not in target:  # the filtered vars hold only set ones
            target[name] = values[name]


def detail(request: Request, app: Grove, caller: Caller, params: SessionFilters) -> Any:
    """GET /api/sessions/<code>, filters in the query string or (oTree's call_api) the body."""
    return session_detail_json(request, app, request.path_params["code"], params)


def get_session_post(request: Request, app: Grove, caller: Caller, params: SessionFilters) -> Any:
    """POST /api/get_session/<code> (oTree's spelling)."""
    return session_detail_json(request, app, request.path_params["code"], params)
