"""Urn randomization over HTTP: the reference urn API's paths and shapes, and
``POST /api/sessions/<code>/randomize``.

The reference API answers ``{"message", "results", "status"}``; so do these, with 401 for a
missing or invalid key. ``study`` is a study name or a session code.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.errors import GroveError, InvalidArguments
from server.models.urn import UrnAssignment
from server.randomization.api_views import assignment_row, study_config_view, study_log
from server.randomization.service import StudyNotFound, get_study, randomize
from server.randomization.session_urn import (
    participant_for_key,
    randomize_participant,
    study_name_of,
)
from server.rest.auth import Caller, authenticate
from server.rest.body import read_parameters, require_fields
from server.rest.endpoint import api_endpoint
from server.rest.errors import RequestError
from server.sessions import get_participant, get_session
from server.web.context import Grove, grove
from server.web.errors import status_for


def _answer(status: int, message: str, results: Any = None) -> JSONResponse:
    return JSONResponse(
        {"message": message, "results": results if results is not None else [], "status": status},
        status_code=status,
    )


def _resolve_study(db: Any, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArguments("Missing study name", field="study")
    try:
        get_study(db, name)
        return name
    except StudyNotFound:
        import sqlalchemy as sa

        from server.models.core import ExperimentSession

        session = db.scalars(
            sa.select(ExperimentSession).where(ExperimentSession.code == name)
        ).first()
        study = study_name_of(session) if session is not None else None
        if study is None:
            raise
        get_study(db, study)
        return study


async def _reference_call(request: Request, action: Any) -> Response:
    app = grove(request)
    try:
        caller = await run_in_threadpool(authenticate, request, 401)
        params = await read_parameters(request, app.settings.max_body_bytes)
        params.pop("api_key", None)
        results = await run_in_threadpool(action, app, caller, params)
    except RequestError as exc:
        return _answer(exc.status, exc.message)
    except GroveError as exc:
        return _answer(status_for(exc), str(exc))
    return _answer(200, "Success", results)


def _study_config(app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    with app.db.read() as db:
        name = _resolve_study(db, params.get("study"))
        return study_config_view(get_study(db, name), show_seed=False)


def _list_participants(app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    with app.db.read() as db:
        return study_log(db, _resolve_study(db, params.get("study")))


def _randomize(app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    with app.db.transaction() as db:
        name = _resolve_study(db, params.get("study"))
        key = params.get("id")
        if not isinstance(key, str) or not key:
            raise InvalidArguments("Missing participant id", field="id")
        levels = {k: v for k, v in params.items() if k not in ("study", "id")}
        participant = participant_for_key(db, name, key)
        result = randomize(
            db,
            name,
            key,
            levels,
            user=caller.user,
            participant_id=participant.id if participant else None,
        )
        if participant is not None:
            participant.vars = {**(participant.vars or {}), "treatment": result.treatment}
        import sqlalchemy as sa

        # Look the row up by (study, sequence): an index hit, whatever the history's length.
        row = db.scalars(
            sa.select(UrnAssignment).where(
                UrnAssignment.study_id == get_study(db, name).id,
                UrnAssignment.sequence == result.sequence,
            )
        ).one()
        return [assignment_row(row)]


async def study_config(request: Request) -> Response:
    """GET /study_config?study=...: the study's configuration (seed hidden)."""
    return await _reference_call(request, _study_config)


async def study_participants(request: Request) -> Response:
    """GET lists the study's assignments; POST randomizes one participant."""
    if request.method == "POST":
        return await _reference_call(request, _randomize)
    return await _reference_call(request, _list_participants)


@api_endpoint()
def randomize_in_session(
    request: Request, app: Grove, caller: Caller, params: dict[str, Any]
) -> Any:
    """POST /api/sessions/<code>/randomize with participant_code or participant_label
    (and optionally the factor levels): randomize that participant once."""
    require_fields(params, (), ("participant_code", "participant_label", "levels"))
    levels = params.get("levels") or {}
    if not isinstance(levels, dict):
        raise RequestError(400, "levels must be an object (dict)", "levels")
    with app.db.transaction() as db:
        session = get_session(db, request.path_params["code"])
        if "participant_code" in params:
            participant = get_participant(db, str(params["participant_code"]), for_update=True)
            if participant.session_id != session.id:
                raise InvalidArguments(
                    "participant_code is not in this session", field="participant_code"
                )
        elif "participant_label" in params:
            from server.errors import ParticipantNotFound

            match = [
                p for p in session.get_participants() if p.label == params["participant_label"]
            ]
            if not match:
                raise ParticipantNotFound(
                    f"no participant labelled {params['participant_label']!r} in this session"
                )
            participant = match[0]
        else:
            raise RequestError(
                400, "give participant_code or participant_label", "participant_code"
            )
        result = randomize_participant(db, participant, levels, user=caller.user)
        return {
            "participant_code": participant.code,
            "treatment": result.treatment,
            "sequence": result.sequence,
            "new": result.is_new,
        }
