"""The admin API's view of a session's participants: ``players/`` (chosen fields) and
``players/online/`` (who asked for a page or polled lately)."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request

from server.admin_api.session_models import (
    DEFAULT_PLAYER_FIELDS,
    OnlineQuery,
    PlayerOnline,
    PlayersOnline,
    PlayersQuery,
)
from server.http.context import Grove
from server.participant_presence import session_presence
from server.rest.auth import Caller
from server.rest.errors import RequestError
from server.session_queries import PLAYER_FIELDS, iso_utc, player_states


def players(
    request: Request, app: Grove, caller: Caller, params: PlayersQuery
) -> dict[str, dict[str, Any]]:
    """GET session/{sname}/players/: each participant's chosen fields, by participant code."""
    fields = params.fields or list(DEFAULT_PLAYER_FIELDS)
    unknown = [name for name in fields if name not in PLAYER_FIELDS]
    if unknown:
        raise RequestError(
            400,
            f"unknown field {unknown[0]!r} (allowed: {', '.join(PLAYER_FIELDS)})",
            field="fields",
        )
    states = player_states(app.db, app.project, str(request.path_params["sname"]))
    return {
        state.code: {
            name: value for name, value in dataclasses.asdict(state).items() if name in fields
        }
        for state in states
    }


def online(request: Request, app: Grove, caller: Caller, params: OnlineQuery) -> PlayersOnline:
    """GET session/{sname}/players/online/: presence of each participant."""
    found = session_presence(app.db, str(request.path_params["sname"]), params.within)
    return PlayersOnline(
        within_seconds=params.within,
        online=[p.code for p in found if p.online],
        players={
            p.code: PlayerOnline(
                label=p.label,
                online=p.online,
                last_seen=iso_utc(p.last_seen),
                seconds_since_seen=p.seconds_since_seen,
            )
            for p in found
        },
    )
