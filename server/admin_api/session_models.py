"""The admin API's sessions: request parameters and answers (pydantic; the validation and the
OpenAPI document are made from them). uproot's names where its reference has one (``sname``,
``config``, ``n_players``, ``unames``, ``settings``), oTree's REST names accepted beside them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from server.listing_bounds import MAX_PAGE, MAX_PER_PAGE
from server.participant_presence import DEFAULT_ONLINE_SECONDS
from server.rest.models import (
    SINCE_HELP,
    Answer,
    NameList,
    Parameters,
    SinceTime,
    WholeNumber,
)
from server.session_queries import PLAYER_FIELDS
from server.sessions import MAX_PARTICIPANTS

# Requests


class SessionsQuery(Parameters):
    """``GET sessions/``: filters (each optional) and the page."""

    config: str | None = Field(default=None, description="only sessions of this config")
    room: str | None = Field(default=None, description="only sessions of this room")
    archived: bool | None = Field(
        default=None, description="true: only archived sessions; false: only the others"
    )
    created_since: SinceTime | None = Field(
        default=None,
        description="only sessions created at or after this time: ISO 8601 (UTC unless it "
        "says) or epoch seconds",
    )
    page: WholeNumber = Field(
        default=1, ge=1, le=MAX_PAGE, description="the page, from 1 (newest sessions first)"
    )
    per_page: WholeNumber = Field(default=50, ge=1, le=MAX_PER_PAGE)


class SessionCreate(Parameters):
    """``POST sessions/``: uproot's body, or oTree's ``POST /api/sessions/`` fields (one
    spelling of each), plus ``label`` and ``description``."""

    config: str | None = Field(default=None, description="the session config's name")
    session_config_name: str | None = Field(default=None, description="oTree's name of config")
    n_players: WholeNumber | None = Field(
        default=None,
        ge=1,
        le=MAX_PARTICIPANTS,
        description="number of participants; left out: one per uname, or the config's "
        "smallest valid number",
    )
    num_participants: WholeNumber | None = Field(
        default=None, ge=1, le=MAX_PARTICIPANTS, description="oTree's name of n_players"
    )
    sname: str | None = Field(
        default=None,
        description="the session's code (1-32 letters, digits, _ or -); random when left out",
    )
    unames: list[str] | None = Field(
        default=None,
        max_length=MAX_PARTICIPANTS,
        description="participant labels, one per participant in order",
    )
    settings: dict[str, Any] | None = Field(
        default=None, description="changed config fields, checked as in the admin form"
    )
    modified_session_config_fields: dict[str, Any] | None = Field(
        default=None, description="oTree's name of settings"
    )
    room: str | None = Field(default=None, description="create it in this room")
    room_name: str | None = Field(default=None, description="oTree's name of room")
    label: str | None = Field(default=None, description="the session's label")
    description: str = Field(default="", description="the admin's notes on the session")


class DescriptionUpdate(Parameters):
    """``PATCH session/{sname}/description/``."""

    description: str = Field(default="", description="the new description; empty clears it")


class ActiveUpdate(Parameters):
    """``PATCH session/{sname}/active/``: uproot's toggle. Active means not archived; with
    no body it toggles, ``{"active": false}`` archives."""

    active: bool | None = None


class ArchivedUpdate(Parameters):
    """``PATCH session/{sname}/archived/``."""

    archived: bool


class SettingsUpdate(Parameters):
    """``PATCH session/{sname}/settings/``: config fields to change."""

    settings: dict[str, Any] = Field(
        description="config fields and their new values; each takes its current value's kind"
    )


# Answers


class SessionItem(Answer):
    """A session in a list."""

    sname: str = Field(description="the session's code")
    config: str = Field(description="its session config's name")
    display_name: str
    label: str | None
    description: str
    room: str | None
    n_players: int
    created_at: str | None = Field(description="ISO 8601 UTC")
    created_by: str | None = Field(description="the key's user or admin who created it")
    archived: bool
    active: bool = Field(description="not archived (uproot's name)")
    testing: bool = Field(description="a demo session (uproot's name)")


class SessionsList(Answer):
    """``GET sessions/``: one page, and ``next_page`` (null on the last)."""

    sessions: list[SessionItem]
    page: int
    per_page: int
    total: int
    next_page: int | None


class SessionCreated(Answer):
    """``POST sessions/``."""

    sname: str
    created: bool
    code: str
    session_wide_url: str
    admin_url: str
    room_url: str | None


class Position(Answer):
    """Where a participant is: ``page_index`` counts from 1 over the session's ``num_pages``
    (0: not started)."""

    code: str
    label: str | None
    id_in_session: int
    app: str | None
    round: int | None
    page: str | None
    page_index: int
    num_pages: int
    on_wait_page: bool
    started: bool
    finished: bool
    is_dropout: bool


class RoundGroups(Answer):
    """One app's round: each group's participant codes in ``id_in_group`` order."""

    app: str
    round: int
    groups: list[list[str]]


class SessionDetail(SessionItem):
    """``GET session/{sname}/``."""

    settings: dict[str, Any] = Field(description="the session's config (urn seed hidden)")
    apps: list[str]
    vars: dict[str, Any]
    n_groups: int = Field(description="groups in the first app's first round")
    participants: list[Position]
    groups: list[RoundGroups]


class DescriptionAnswer(Answer):
    """The description now."""

    description: str


class ArchivedAnswer(Answer):
    """The archived state now."""

    active: bool
    archived: bool


class SettingsAnswer(Answer):
    """The session's whole config now."""

    settings: dict[str, Any]


class SessionDeleted(Answer):
    """``DELETE session/{sname}/``: the rows removed in all."""

    sname: str
    deleted: bool
    rows: int


# Participants of a session

DEFAULT_PLAYER_FIELDS = ("code", "label", "app", "round", "page", "finished")


class PlayersQuery(Parameters):
    """``GET session/{sname}/players/``: which fields to show of each participant."""

    fields: NameList = Field(
        default=None,
        description="comma-separated (or a JSON list), any of: "
        + ", ".join(PLAYER_FIELDS)
        + "; left out: "
        + ", ".join(DEFAULT_PLAYER_FIELDS),
    )


class OnlineQuery(Parameters):
    """``GET session/{sname}/players/online/``."""

    within: float = Field(
        default=DEFAULT_ONLINE_SECONDS,
        gt=0,
        le=86_400,
        description="seconds: online means a page request or poll within the last this many",
    )


class PlayerOnline(Answer):
    """One participant's presence."""

    label: str | None
    online: bool
    last_seen: str | None = Field(description="ISO 8601 UTC; null: never seen")
    seconds_since_seen: int | None


class PlayersOnline(Answer):
    """``GET session/{sname}/players/online/``: the codes online now, and every
    participant's presence by code."""

    within_seconds: float
    online: list[str]
    players: dict[str, PlayerOnline]


# A session's data (Grove's exports: server/data_export/)

EXPORT_TABLE_HELP = (
    "all_apps_wide (one row per participant, every app; the default), an app's name (one row "
    "per player), page_times or chat"
)


class SessionExportQuery(Parameters):
    """``GET session/{sname}/data/csv/`` and ``data/json/``: one of the session's exports."""

    table: str = Field(default="all_apps_wide", min_length=1, description=EXPORT_TABLE_HELP)
    since: str | None = Field(default=None, min_length=1, description=SINCE_HELP)
    format: Literal["wide"] = Field(
        default="wide",
        description="Grove's tables are wide (oTree's layout); uproot's ultralong, sparse and "
        "latest are not offered",
    )
    bom: bool = Field(
        default=False, description="CSV only: start with a byte-order mark (for Excel)"
    )


class SessionDataQuery(Parameters):
    """``GET session/{sname}/data/`` (uproot's): the session's wide table as JSON."""

    since: str | None = Field(default=None, min_length=1, description=SINCE_HELP)


class PageTimesQuery(Parameters):
    """``GET session/{sname}/page-times/``: the session's page times as CSV."""

    since: str | None = Field(default=None, min_length=1, description=SINCE_HELP)
    bom: bool = Field(default=False, description="start with a byte-order mark (for Excel)")


# Session configs (server/config_catalog.py)


class ConfigFieldInfo(Answer):
    """A config field the create form (and ``settings``) may change: ``kind`` is number,
    bool or str; a value must be of that kind."""

    name: str
    kind: str
    value: Any


class AppInfo(Answer):
    """An app of a config: ``players_per_group`` null means everyone in one group."""

    name: str
    num_rounds: int
    players_per_group: int | None
    pages: list[str]


class ConfigInfo(Answer):
    """``GET configs/``: one session config."""

    name: str
    display_name: str
    doc: str
    apps: list[AppInfo]
    num_demo_participants: int
    multiple_of: int = Field(description="participants come in multiples of this")
    fields: list[ConfigFieldInfo]


class ConfigSummaryAnswer(ConfigInfo):
    """``GET configs/{cname}/summary/``: uproot's name, summary, apps, settings, multiple_of,
    and Grove's details."""

    summary: str = Field(description="one line for people")
    settings: dict[str, Any] = Field(description="the changeable fields' values by name")
    num_pages: int = Field(description="pages a participant goes through, all rounds")
