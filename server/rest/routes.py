"""The REST API's endpoints, declared once: the route table and the OpenAPI document are both
made from ``ENDPOINTS``. Every path answers with and without its trailing slash."""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.admin_api.routes import ENDPOINTS as ADMIN_ENDPOINTS
from server.rest import export_api, meta, models, sessions, urn_api
from server.rest import vars as vars_api
from server.rest.docs import docs_page
from server.rest.route_table import routes
from server.rest.spec import EXPORT, HTML, Endpoint, build_spec

READ = (400, 403, 413, 415)
WRITE = (400, 403, 404, 413, 415)
EXPORT_ERRORS = (400, 403, 404)
# The exports that take since: 409 for a cursor from another database.
SINCE_EXPORT_ERRORS = (*EXPORT_ERRORS, 409)
URN_ERRORS = (400, 401, 404)


async def openapi_json(request: Request) -> Response:
    """GET /api/openapi.json: the document made from ENDPOINTS."""
    return JSONResponse(spec())


async def docs(request: Request) -> Response:
    """GET /api/docs: the document, readable."""
    return docs_page(spec())


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        "/api/sessions/",
        "listSessions",
        "List sessions, newest last",
        sessions.index,
        models.NoParameters,
        list[models.SessionSummary],
        READ,
    ),
    Endpoint(
        "POST",
        "/api/sessions/",
        "createSession",
        "Create a session",
        sessions.create,
        models.CreateSession,
        models.Created,
        WRITE,
        scope="write",
    ),
    Endpoint(
        "GET",
        "/api/sessions/{code}",
        "getSession",
        "A session with its participants",
        sessions.detail,
        models.SessionFilters,
        models.SessionDetail,
        (*READ, 404),
        description=(
            "Each filter is a comma-separated list in the query string, or a list of strings "
            "in a JSON body. Each requested var that is set is also a key of the participant "
            "(session vars: of the session), as in oTree."
        ),
    ),
    Endpoint(
        "POST",
        "/api/get_session/{code}",
        "postGetSession",
        "oTree's spelling of getSession",
        sessions.get_session_post,
        models.SessionFilters,
        models.SessionDetail,
        WRITE,
        scope="read",
    ),
    Endpoint(
        "POST",
        "/api/sessions/{code}/randomize",
        "randomizeInSession",
        "Randomize a participant of the session with its urn",
        urn_api.randomize_in_session,
        models.RandomizeInSession,
        models.Randomized,
        WRITE,
        scope="write",
    ),
    Endpoint(
        "GET",
        "/api/sessions/{code}/data",
        "sessionData",
        "A session's data, wide (one row per participant; JSON unless format says csv)",
        export_api.session_data,
        models.SessionDataQuery,
        EXPORT,
        SINCE_EXPORT_ERRORS,
    ),
    Endpoint(
        "GET",
        "/api/export/{table}",
        "exportTable",
        "Export all apps wide, one app's table, page times, chat or the urn assignment log "
        "(oTree's columns), of every session or one",
        export_api.export_table,
        models.ExportQuery,
        EXPORT,
        SINCE_EXPORT_ERRORS,
    ),
    Endpoint(
        "GET",
        "/api/export/{table}/{function}",
        "exportCustom",
        "An app's custom_export(players) rows (its first row is the header), or the rows of "
        "one of its ExtraModels (session_code, then the model's columns)",
        export_api.export_custom,
        models.ExportQuery,
        EXPORT,
        SINCE_EXPORT_ERRORS,
    ),
    *[
        Endpoint(
            "GET",
            path,
            operation_id,
            f"oTree 6's path for {what}",
            export_api.otree_export,
            models.OtreeExportQuery,
            EXPORT,
            EXPORT_ERRORS,
        )
        for path, operation_id, what in (
            ("/api/export_wide", "otreeExportWide", "all apps wide"),
            ("/api/export_page_times", "otreeExportPageTimes", "page times"),
            ("/api/export_chat", "otreeExportChat", "chat"),
        )
    ],
    Endpoint(
        "GET",
        "/api/export_app",
        "otreeExportApp",
        "oTree 6's path for one app's table",
        export_api.otree_export_app,
        models.OtreeAppExportQuery,
        EXPORT,
        EXPORT_ERRORS,
    ),
    Endpoint(
        "GET",
        "/api/export_app_custom",
        "otreeExportAppCustom",
        "oTree 6's path for an app's custom_export(players) rows",
        export_api.otree_export_app_custom,
        models.OtreeCustomExportQuery,
        EXPORT,
        EXPORT_ERRORS,
    ),
    Endpoint(
        "POST",
        "/api/participant_vars/",
        "participantVarsByLabel",
        "Set participant vars by room and label",
        vars_api.participant_vars,
        models.ParticipantVarsByLabel,
        models.VarsSet,
        WRITE,
        scope="write",
    ),
    Endpoint(
        "POST",
        "/api/participant_vars/{code}",
        "participantVarsByCode",
        "Set participant vars by participant code",
        vars_api.participant_vars_by_code,
        models.VarsOnly,
        models.VarsSet,
        WRITE,
        scope="write",
    ),
    Endpoint(
        "POST",
        "/api/session_vars/",
        "sessionVarsByRoom",
        "Set session vars of a room's session",
        vars_api.session_vars,
        models.SessionVarsByRoom,
        models.SessionVarsSet,
        WRITE,
        scope="write",
    ),
    Endpoint(
        "POST",
        "/api/session_vars/{code}",
        "sessionVarsByCode",
        "Set session vars by session code",
        vars_api.session_vars_by_code,
        models.VarsOnly,
        models.SessionVarsSet,
        WRITE,
        scope="write",
    ),
    Endpoint(
        "GET",
        "/api/otree_version",
        "version",
        "The oTree version whose API Grove follows, and Grove's version",
        meta.otree_version,
        models.NoParameters,
        models.Version,
        READ,
    ),
    Endpoint(
        "GET",
        "/api/session_configs",
        "sessionConfigs",
        "Every session config, merged with SESSION_CONFIG_DEFAULTS",
        meta.session_configs,
        models.NoParameters,
        list[models.SessionConfig],
        READ,
    ),
    Endpoint(
        "GET",
        "/api/apps",
        "apps",
        "Every app, with its module's doc text (oTree 6's /api/apps)",
        meta.apps,
        models.NoParameters,
        dict[str, str],
        READ,
    ),
    Endpoint(
        "GET",
        "/api/rooms",
        "rooms",
        "Every room, with the code of its current session (or null)",
        meta.rooms,
        models.NoParameters,
        list[models.Room],
        READ,
    ),
    Endpoint(
        "GET",
        "/api/openapi.json",
        "openapi",
        "This document (OpenAPI 3.1)",
        openapi_json,
        models.NoParameters,
        dict[str, Any],
        (),
        raw=True,
        public=True,
    ),
    Endpoint(
        "GET",
        "/api/docs",
        "docs",
        "This document as a page",
        docs,
        models.NoParameters,
        HTML,
        (),
        raw=True,
        public=True,
    ),
    Endpoint(
        "GET",
        "/study_config",
        "studyConfig",
        "Urn API: a study's configuration (seed hidden)",
        urn_api.study_config,
        models.StudyQuery,
        models.UrnAnswer,
        URN_ERRORS,
        error_model=models.UrnAnswer,
        raw=True,
    ),
    Endpoint(
        "GET",
        "/study_participants",
        "studyParticipants",
        "Urn API: the study's assignments",
        urn_api.study_participants,
        models.StudyQuery,
        models.UrnAnswer,
        URN_ERRORS,
        error_model=models.UrnAnswer,
        raw=True,
    ),
    Endpoint(
        "POST",
        "/study_participants",
        "randomizeParticipant",
        "Urn API: randomize one participant (id, and one parameter per factor: its level)",
        urn_api.study_participants,
        models.StudyRandomize,
        models.UrnAnswer,
        (400, 401, 403, 404),
        parameters_in="query",
        scope="write",
        error_model=models.UrnAnswer,
        raw=True,
    ),
]


@cache
def spec() -> dict[str, Any]:
    """The OpenAPI document of the REST API and the admin API (the same for every request:
    made once)."""
    return build_spec([*ENDPOINTS, *ADMIN_ENDPOINTS])


api_routes = routes([e for e in ENDPOINTS if e.path.startswith("/api/")], prefix="/api")
urn_reference_routes = routes([e for e in ENDPOINTS if not e.path.startswith("/api/")])
