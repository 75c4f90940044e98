"""The admin API's operations, declared once: ``ENDPOINTS`` makes both the route table
(mounted at ``/admin/api/v1`` by ``server/app.py``) and its part of the OpenAPI document
(``/api/openapi.json``). Every path answers with and without its trailing slash.

Paths follow the uproot Admin API reference, with Grove's names: ``{sname}`` is a session
code, ``unames`` are participant codes or labels, ``{cname}`` a session config name.

HOW TO ADD AN ENDPOINT

1. Write the use case as a domain function (no Starlette, no pydantic): it opens its own unit
   of work (``Database.run`` / ``read``), takes locks in ``server/db.py``'s LOCK ORDER,
   raises domain errors (``NotFound`` 404, ``InvalidArguments`` 400, ...; one table in
   ``server/http/errors.py`` maps them) and returns a small result.
2. Declare its parameters and answer in ``server/admin_api/models.py`` (parameters subclass
   ``server.rest.models.Parameters``: unknown fields are a 400 naming them).
3. Write the handler ``(request, app: Grove, caller: Caller, params) -> answer`` in a module
   of this package named after its area (``sessions.py``, ``players.py``, ...): it only calls
   the domain function and shapes the answer. ``caller.user`` is the key's user, to record
   who changed what.
4. Append ``Endpoint(method, "/admin/api/v1/...", operationId, summary, handler, Params,
   Answer, errors, scope=...)`` below. Path parameters are ``{name}`` and are not part of
   ``Params``; the handler reads them from ``request.path_params``.

SCOPES (``server/api_keys.py``'s SCOPES; each allows what the ones before it allow)

* ``read``: every GET, data exports included;
* ``write``: what changes data but not the study's course: vars, creating sessions;
* ``admin``: everything else (participants' actions, descriptions, settings, archiving,
  deleting, rooms, keys).

Declare the scope on each endpoint (``scope="read"`` on a GET that is a read). An endpoint
without one needs ``read`` for a GET and ``admin`` for any other method. Every call needs a
key (``otree-rest-key``, ``Authorization: Bearer`` or ``?api_key=``): 401 without a valid
one, 403 when its scope is too low, both in the one JSON error shape.
"""

from __future__ import annotations

from typing import Any

from server.admin_api import (
    configs,
    data,
    log,
    models,
    player_actions,
    players,
    rooms,
    sessions,
    status,
    studies,
)
from server.admin_api import session_models as sm
from server.rest import models as rest_models
from server.rest.route_table import routes
from server.rest.spec import EXPORT, Endpoint

PREFIX = "/admin/api/v1"
READ = (400, 401, 403)  # 400: an unknown or bad parameter

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        f"{PREFIX}/status/",
        "adminStatus",
        "Server status: version, database kind and size, migrations pending",
        status.status,
        rest_models.NoParameters,
        models.Status,
        READ,
        scope="read",
    ),
    # --- sessions (server/admin_api/sessions.py) ---------------------------------------------
    Endpoint(
        "GET",
        f"{PREFIX}/sessions/",
        "adminListSessions",
        "Sessions, newest first, a page at a time, filtered by config, room, archived state "
        "or creation time",
        sessions.list_sessions,
        sm.SessionsQuery,
        sm.SessionsList,
        READ,
        scope="read",
        description="next_page is the page parameter of the next page (null on the last).",
    ),
    Endpoint(
        "POST",
        f"{PREFIX}/sessions/",
        "adminCreateSession",
        "Create a session (uproot's config/n_players/sname/unames/settings or oTree's "
        "session_config_name/num_participants/modified_session_config_fields/room_name)",
        sessions.create,
        sm.SessionCreate,
        sm.SessionCreated,
        (400, 401, 403, 404, 409),
        scope="write",
        description="404: no such config or room; 409: the sname is taken.",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/session/{{sname}}/",
        "adminGetSession",
        "A session: config, participants with their position, groups of every app and round",
        sessions.detail,
        rest_models.NoParameters,
        sm.SessionDetail,
        (*READ, 404),
        scope="read",
    ),
    Endpoint(
        "DELETE",
        f"{PREFIX}/session/{{sname}}/",
        "deleteSession",
        "Delete a session and all its data",
        sessions.delete,
        rest_models.NoParameters,
        sm.SessionDeleted,
        (*READ, 404),
        scope="admin",
    ),
    Endpoint(
        "PATCH",
        f"{PREFIX}/session/{{sname}}/description/",
        "setSessionDescription",
        "Replace a session's description",
        sessions.update_description,
        sm.DescriptionUpdate,
        sm.DescriptionAnswer,
        (*READ, 404),
        scope="admin",
    ),
    Endpoint(
        "PATCH",
        f"{PREFIX}/session/{{sname}}/archived/",
        "setSessionArchived",
        "Archive a session (hide it from the sessions list) or unarchive it",
        sessions.update_archived,
        sm.ArchivedUpdate,
        sm.ArchivedAnswer,
        (*READ, 404),
        scope="admin",
    ),
    Endpoint(
        "PATCH",
        f"{PREFIX}/session/{{sname}}/active/",
        "toggleSessionActive",
        "uproot's active toggle: active means not archived; no body toggles",
        sessions.toggle_active,
        sm.ActiveUpdate,
        sm.ArchivedAnswer,
        (*READ, 404),
        scope="admin",
    ),
    Endpoint(
        "PATCH",
        f"{PREFIX}/session/{{sname}}/settings/",
        "setSessionSettings",
        "Change a session's config fields (each keeps its kind, as in the admin form)",
        sessions.update_settings,
        sm.SettingsUpdate,
        sm.SettingsAnswer,
        (*READ, 404),
        scope="admin",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/session/{{sname}}/players/",
        "adminPlayers",
        "Chosen fields of each participant, by participant code",
        players.players,
        sm.PlayersQuery,
        dict[str, dict[str, Any]],
        (*READ, 404),
        scope="read",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/session/{{sname}}/players/online/",
        "adminPlayersOnline",
        "Who is online: a page request or poll within the last `within` seconds, on any "
        "worker (grove_participant.last_seen)",
        players.online,
        sm.OnlineQuery,
        sm.PlayersOnline,
        (*READ, 404),
        scope="read",
    ),
    # --- a session's data (server/admin_api/data.py) -------------------------------------------
    Endpoint(
        "GET",
        f"{PREFIX}/session/{{sname}}/data/",
        "adminSessionData",
        "uproot's data/: the session's wide table (one row per participant) as JSON",
        data.data,
        sm.SessionDataQuery,
        EXPORT,
        (*READ, 404, 409),  # 409: a since cursor from another database
        scope="read",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/session/{{sname}}/data/csv/",
        "adminSessionDataCsv",
        "A table of the session (all apps wide, one app, page times or chat) as CSV",
        data.data_csv,
        sm.SessionExportQuery,
        EXPORT,
        (*READ, 404, 409),  # 409: a since cursor from another database
        scope="read",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/session/{{sname}}/data/json/",
        "adminSessionDataJson",
        "A table of the session (all apps wide, one app, page times or chat) as JSON",
        data.data_json,
        sm.SessionExportQuery,
        EXPORT,
        (*READ, 404, 409),  # 409: a since cursor from another database
        scope="read",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/session/{{sname}}/page-times/",
        "adminSessionPageTimes",
        "The session's page times (oTree's PageTimes columns) as CSV",
        data.page_times,
        sm.PageTimesQuery,
        EXPORT,
        (*READ, 404, 409),  # 409: a since cursor from another database
        scope="read",
    ),
    # --- session configs (server/admin_api/configs.py) -----------------------------------------
    Endpoint(
        "GET",
        f"{PREFIX}/configs/",
        "adminConfigs",
        "Every session config by name, with its apps and the fields a session may change",
        configs.list_configs,
        rest_models.NoParameters,
        dict[str, sm.ConfigInfo],
        READ,
        scope="read",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/configs/{{cname}}/summary/",
        "adminConfigSummary",
        "One config: apps, rounds, group sizes, pages, the multiple of participants it needs",
        configs.summary,
        rest_models.NoParameters,
        sm.ConfigSummaryAnswer,
        (*READ, 404),
        scope="read",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/studies/",
        "listStudies",
        "Urn studies with their counts (never a seed or RNG state)",
        studies.list_studies,
        rest_models.NoParameters,
        list[models.StudySummary],
        READ,
        scope="read",
    ),
    Endpoint(
        "POST",
        f"{PREFIX}/studies/",
        "createStudy",
        "Create a urn study for a trial that runs elsewhere",
        studies.create_study,
        models.CreateStudy,
        models.StudySummary,
        (400, 401, 403, 409),
        scope="write",
        description=(
            "The study then randomizes over the urn API (/study_config, /study_participants). "
            "409: the name is taken, or settings.py's URN_STUDIES defines it."
        ),
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/study/{{name}}/",
        "getStudy",
        "One urn study with its counts",
        studies.study_detail,
        rest_models.NoParameters,
        models.StudySummary,
        (*READ, 404),
        scope="read",
    ),
    # --- participants' actions (server/admin_api/player_actions.py) -----------------------
    *[
        Endpoint(
            "POST",
            f"{PREFIX}/session/{{sname}}/players/{action}/",
            operation,
            summary,
            handler,
            params,
            models.PlayersActionAnswer,
            (400, 401, 403, 404),
            scope="admin",
            description=(
                "unames: participant codes or labels of the session. Answers the codes it "
                f"applied to as {done!r} and the unames it skipped with the reason "
                "(skipped: [{uname, reason}]); 404: no such session."
            ),
        )
        for action, operation, summary, handler, params, done in (
            (
                "advance",
                "advancePlayers",
                "Advance participants by one page (a page as its timeout submits it; a wait "
                "page counts as their arrival)",
                player_actions.advance,
                models.PlayersAction,
                "advanced",
            ),
            (
                "revert",
                "revertPlayers",
                "Move participants one page back (same app and round; never across a wait "
                "page whose after_all_players_arrive has run)",
                player_actions.revert,
                models.PlayersAction,
                "reverted",
            ),
            (
                "end",
                "endPlayers",
                "Move participants to the end of the session",
                player_actions.end,
                models.PlayersAction,
                "ended",
            ),
            (
                "dropout",
                "dropoutPlayers",
                "Mark participants as dropped out: their pages are then submitted as timeouts",
                player_actions.dropout,
                models.PlayersAction,
                "marked_dropout",
            ),
            (
                "reload",
                "reloadPlayers",
                "Reload participants' open pages",
                player_actions.reload,
                models.PlayersAction,
                "reloaded",
            ),
            (
                "redirect",
                "redirectPlayers",
                "Send participants' open pages to an http(s) URL",
                player_actions.redirect,
                models.PlayersRedirect,
                "redirected",
            ),
            (
                "message",
                "messagePlayers",
                "Show a message on participants' open pages",
                player_actions.message,
                models.PlayersMessage,
                "messaged",
            ),
        )
    ],
    Endpoint(
        "PATCH",
        f"{PREFIX}/session/{{sname}}/players/fields/",
        "setPlayersFields",
        "Set participant fields (settings.PARTICIPANT_FIELDS, stored in participant.vars as "
        "the vars API does, and label) on participants",
        player_actions.fields,
        models.PlayersFields,
        models.PlayersActionAnswer,
        (400, 401, 403, 404),
        scope="admin",
        description=(
            "Answers {updated: [participant codes], fields: [names], skipped: [{uname, "
            "reason}]}; reload: true reloads their open pages. 400: a name not declared in "
            "PARTICIPANT_FIELDS (nor label), a bad label, or one label for several "
            "participants; 404: no such session, or no uname names a participant."
        ),
    ),
    # --- the audit log (server/admin_api/log.py) ----------------------------------------------
    Endpoint(
        "GET",
        f"{PREFIX}/log/",
        "adminLog",
        "The audit log: who changed what, newest first, a page at a time, filtered by "
        "session, time or action",
        log.log,
        models.LogQuery,
        models.LogList,
        READ,
        scope="admin",
        description=(
            "who: the API key's user, the admin's login name (admin area) or cli; action: a "
            "dotted name (session.archive, participant.advance, room.create, key.scope, "
            "study.create, ...); action=session matches every session.* action. next_page "
            "is the page parameter of the next page (null on the last)."
        ),
    ),
    # --- rooms (server/admin_api/rooms.py) ---------------------------------------------------
    Endpoint(
        "GET",
        f"{PREFIX}/rooms/",
        "listRooms",
        "Rooms by name, with their session and who is waiting",
        rooms.list_rooms,
        rest_models.NoParameters,
        dict[str, models.RoomInfo],
        READ,
        scope="read",
    ),
    Endpoint(
        "POST",
        f"{PREFIX}/rooms/",
        "createRoom",
        "Create a room stored in the database",
        rooms.create_room,
        models.RoomCreate,
        models.RoomChanged,
        (400, 401, 403, 409),
        scope="admin",
        description="Answers {name, created: true}. 409: the name is taken (settings or database).",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/room/{{roomname}}/",
        "getRoom",
        "One room, with its session and who is waiting",
        rooms.room_detail,
        rest_models.NoParameters,
        models.RoomInfo,
        (*READ, 404),
        scope="read",
    ),
    Endpoint(
        "PATCH",
        f"{PREFIX}/room/{{roomname}}/",
        "updateRoom",
        "Change a stored room's display name, labels or secure links (only without a session)",
        rooms.update_room,
        models.RoomUpdate,
        models.RoomChanged,
        (400, 401, 403, 404, 409),
        scope="admin",
        description=(
            "Answers {name, updated: true}. 409: a settings.py room (read-only), or the room "
            "has a session (disassociate it first)."
        ),
    ),
    Endpoint(
        "DELETE",
        f"{PREFIX}/room/{{roomname}}/",
        "deleteRoom",
        "Delete a stored room (only without a session)",
        rooms.delete_room,
        rest_models.NoParameters,
        models.RoomChanged,
        (401, 403, 404, 409),
        scope="admin",
        description="Answers {name, deleted: true}. 409: a settings.py room, or one with a "
        "session.",
    ),
    Endpoint(
        "POST",
        f"{PREFIX}/room/{{roomname}}/disassociate/",
        "disassociateRoom",
        "Close the room: its session stays, new visitors wait for the next one",
        rooms.disassociate_room,
        rest_models.NoParameters,
        models.RoomChanged,
        (401, 403, 404),
        scope="admin",
        description="Answers {name, disassociated: true, session_code: the session it had}.",
    ),
    Endpoint(
        "POST",
        f"{PREFIX}/room/{{roomname}}/session/",
        "createRoomSession",
        "Create a session in the room",
        rooms.create_room_session,
        models.RoomSessionCreate,
        models.RoomSessionCreated,
        (400, 401, 403, 404, 409),
        scope="write",
        description="Creating a session needs a write key, as POST sessions/ does. 404: no "
        "such room or config; 409: the sname is taken.",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/room/{{roomname}}/online/",
        "roomOnline",
        "Who waits in the room now",
        rooms.room_online,
        rest_models.NoParameters,
        models.RoomOnline,
        (*READ, 404),
        scope="read",
    ),
]

admin_api_routes = routes(ENDPOINTS, prefix=PREFIX, key_required=True, unauthenticated_status=401)
