"""The admin API's sessions: list, create, detail, description, archived, settings, delete.
Each handler calls one domain function and shapes its answer."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.admin_api.session_models import (
    ActiveUpdate,
    ArchivedAnswer,
    ArchivedUpdate,
    DescriptionAnswer,
    DescriptionUpdate,
    Position,
    RoundGroups,
    SessionCreate,
    SessionCreated,
    SessionDeleted,
    SessionDetail,
    SessionItem,
    SessionsList,
    SessionsQuery,
    SettingsAnswer,
    SettingsUpdate,
)
from server.http.context import Grove
from server.rest.auth import Caller
from server.rest.endpoint import absolute
from server.rest.errors import RequestError
from server.scripted_sessions import (
    NewSession,
    create_scripted_session,
    set_config_fields,
)
from server.session_admin import delete_session, session_row, set_archived, set_description
from server.session_queries import (
    SessionFilter,
    SessionListing,
    find_sessions,
    session_overview,
)


def _sname(request: Request) -> str:
    return str(request.path_params["sname"])


def _item_fields(row: SessionListing) -> dict[str, Any]:
    return {
        "sname": row.code,
        "config": row.config_name,
        "display_name": row.display_name,
        "label": row.label,
        "description": row.description,
        "room": row.room_name,
        "n_players": row.num_participants,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "archived": row.archived,
        "active": not row.archived,
        "testing": row.is_demo,
    }


def list_sessions(
    request: Request, app: Grove, caller: Caller, params: SessionsQuery
) -> SessionsList:
    """GET sessions/: the matching sessions, newest first, one page."""
    found = find_sessions(
        app.db,
        SessionFilter(
            config_name=params.config,
            room_name=params.room,
            archived=params.archived,
            created_since=params.created_since,
        ),
        page=params.page,
        per_page=params.per_page,
    )
    return SessionsList(
        sessions=[SessionItem(**_item_fields(row)) for row in found.sessions],
        page=found.page,
        per_page=found.per_page,
        total=found.total,
        next_page=found.page + 1 if found.has_next else None,
    )


def _one_of(params: SessionCreate, name: str, otree_name: str) -> Any:
    value, otree_value = getattr(params, name), getattr(params, otree_name)
    if value is not None and otree_value is not None and value != otree_value:
        raise RequestError(
            400, f"give {name} or {otree_name} (the same thing), not both", field=name
        )
    return value if value is not None else otree_value


def create(request: Request, app: Grove, caller: Caller, params: SessionCreate) -> SessionCreated:
    """POST sessions/: create a session (the key's user is recorded as its creator)."""
    config_name = _one_of(params, "config", "session_config_name")
    if config_name is None:
        raise RequestError(400, "missing required field config", field="config")
    created = create_scripted_session(
        app.db,
        app.project,
        NewSession(
            config_name=config_name,
            num_participants=_one_of(params, "n_players", "num_participants"),
            code=params.sname,
            labels=params.unames,
            modified_config=_one_of(params, "settings", "modified_session_config_fields"),
            room_name=_one_of(params, "room", "room_name"),
            label=params.label,
            description=params.description,
        ),
        who=caller.who,
    )
    code, room = created.session.code, created.session.room_name
    return SessionCreated(
        sname=code,
        created=True,
        code=code,
        session_wide_url=absolute(request, f"/join/{created.join_code}"),
        admin_url=absolute(request, f"/SessionStartLinks/{code}"),
        room_url=absolute(request, f"/room/{room}/") if room else None,
    )


def detail(request: Request, app: Grove, caller: Caller, params: Any) -> SessionDetail:
    """GET session/{sname}/: the session, its participants' positions and its groups."""
    overview = session_overview(app.db, app.project, _sname(request))
    return SessionDetail(
        **_item_fields(overview.session),
        settings=overview.config,
        apps=overview.app_sequence,
        vars=overview.vars,
        n_groups=len(overview.groups[0].groups) if overview.groups else 0,
        participants=[
            Position(
                code=row.code,
                label=row.label,
                id_in_session=row.id_in_session,
                app=row.app,
                round=row.round_number,
                page=row.page_name,
                page_index=row.page_index,
                num_pages=row.num_pages,
                on_wait_page=row.on_wait_page,
                started=row.started,
                finished=row.finished,
                is_dropout=row.is_dropout,
            )
            for row in overview.participants
        ],
        groups=[
            RoundGroups(app=round_.app, round=round_.round_number, groups=round_.groups)
            for round_ in overview.groups
        ],
    )


def update_description(
    request: Request, app: Grove, caller: Caller, params: DescriptionUpdate
) -> DescriptionAnswer:
    """PATCH session/{sname}/description/."""
    set_description(app.db, _sname(request), params.description, who=caller.who)
    return DescriptionAnswer(description=session_row(app.db, _sname(request)).description)


def toggle_active(
    request: Request, app: Grove, caller: Caller, params: ActiveUpdate
) -> ArchivedAnswer:
    """PATCH session/{sname}/active/: uproot's toggle, as Grove's archived state (active:
    not archived); ``{"active": bool}`` sets it instead of toggling."""
    wanted = None if params.active is None else not params.active
    archived = set_archived(app.db, _sname(request), wanted, who=caller.who)
    return ArchivedAnswer(active=not archived, archived=archived)


def update_archived(
    request: Request, app: Grove, caller: Caller, params: ArchivedUpdate
) -> ArchivedAnswer:
    """PATCH session/{sname}/archived/: archive (hide from the list) or unarchive."""
    archived = set_archived(app.db, _sname(request), params.archived, who=caller.who)
    return ArchivedAnswer(active=not archived, archived=archived)


def update_settings(
    request: Request, app: Grove, caller: Caller, params: SettingsUpdate
) -> SettingsAnswer:
    """PATCH session/{sname}/settings/: change config fields, checked as the admin form."""
    settings = set_config_fields(app.db, _sname(request), params.settings, who=caller.who)
    return SettingsAnswer(settings=settings)


def delete(request: Request, app: Grove, caller: Caller, params: Any) -> SessionDeleted:
    """DELETE session/{sname}/: the session and everything of it."""
    deleted = delete_session(app.db, app.project, _sname(request), who=caller.who)
    return SessionDeleted(sname=deleted.code, deleted=True, rows=deleted.rows)
