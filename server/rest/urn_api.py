"""Urn randomization over HTTP: the reference urn API's paths and shapes, and
``POST /api/sessions/<code>/randomize``.

The reference API answers ``{"message", "results", "status"}``; so do these, with 401 for a
missing or invalid key, 403 for a ``read`` key that asks to randomize (a write) and 429 (with
Retry-After) past the key's rate limit, as every API.
``study`` is a study name or a session code.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.errors import GroveError
from server.http.context import Grove, grove
from server.http.errors import retry_after, status_for
from server.http.thread_hop import run_in_thread
from server.participant_vars import participant_label_key
from server.randomization import api_use_cases
from server.rest.auth import Caller, authenticate, require_scope, settings_key_caller
from server.rest.body import read_parameters
from server.rest.endpoint import enforce_rate_limit
from server.rest.errors import RequestError
from server.rest.models import RandomizeInSession


def _answer(status: int, message: str, results: Any = None) -> JSONResponse:
    return JSONResponse(
        {"message": message, "results": results if results is not None else [], "status": status},
        status_code=status,
    )


async def _reference_call(request: Request, action: Any) -> Response:
    app = grove(request)
    try:
        # The server's own key is checked here; only per-user keys need the database.
        caller = settings_key_caller(request)
        if caller is None:
            caller = await run_in_thread(authenticate, request, 401)
        await enforce_rate_limit(request, app, caller)
        params = await read_parameters(request, app.settings.max_body_bytes)
        params.pop("api_key", None)
        results = await run_in_thread(action, app, caller, params)
    except RequestError as exc:
        return _answer(exc.status, exc.message)
    except GroveError as exc:
        response = _answer(status_for(exc), str(exc))
        response.headers.update(retry_after(exc))
        return response
    return _answer(200, "Success", results)


def _study_config(app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    # The seed only for an admin's key, never for an open API's anonymous caller.
    show_seed = caller.user is not None and caller.scope == "admin"
    return api_use_cases.study_config(
        app.db, params.get("study"), app.settings.urn_studies, show_seed=show_seed
    )


def _list_participants(app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    return api_use_cases.study_assignments(app.db, params.get("study"), app.settings.urn_studies)


def _randomize(app: Grove, caller: Caller, params: dict[str, Any]) -> Any:
    require_scope(caller, "write", "randomizing (POST /study_participants)")
    levels = {k: v for k, v in params.items() if k not in ("study", "id")}
    return api_use_cases.randomize_by_key(
        app.db,
        params.get("study"),
        params.get("id"),
        levels,
        caller.user,
        app.settings.urn_studies,
    )


async def study_config(request: Request) -> Response:
    """GET /study_config?study=...: the study's configuration (the seed null except for an
    admin key)."""
    return await _reference_call(request, _study_config)


async def study_participants(request: Request) -> Response:
    """GET lists the study's assignments; POST randomizes one participant."""
    if request.method == "POST":
        return await _reference_call(request, _randomize)
    return await _reference_call(request, _list_participants)


def randomize_in_session(
    request: Request, app: Grove, caller: Caller, params: RandomizeInSession
) -> Any:
    """POST /api/sessions/<code>/randomize with participant_code or participant_label
    (and optionally the factor levels): randomize that participant once."""
    code, label = params.participant_code, params.participant_label
    if code is None and label is None:
        raise RequestError(400, "give participant_code or participant_label", "participant_code")
    return api_use_cases.randomize_in_session(
        app.db,
        request.path_params["code"],
        participant_code=code,
        participant_label=None if label is None else participant_label_key(label),
        levels=params.levels or {},
        user=caller.user,
    )
