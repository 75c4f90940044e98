"""The admin API's request parameters and answers, declared once as pydantic models (the
validation and the OpenAPI document are both made from them; see ``server/rest/models.py``
for the shared rules: unknown parameters are a 400 naming them)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from server.listing_bounds import MAX_PAGE, MAX_PER_PAGE
from server.rest.models import Answer, Parameters, SinceTime, WholeNumber


class WorkerInfo(Answer):
    """A server process: ``host:pid:random``; times ISO 8601 UTC."""

    worker_id: str
    host: str
    pid: int
    version: str
    started_at: str
    seen_at: str


class Status(Answer):
    """``GET status/``."""

    version: str = Field(description="Grove's version")
    database: str = Field(description="sqlite or postgresql")
    database_size_bytes: int | None = Field(description="on disk; null when unknown")
    database_size_mb: float | None = Field(description="the same in MiB (uproot's field)")
    schema_revision: str | None = Field(description="the database's migration revision")
    schema_head: str = Field(description="this Grove's newest migration revision")
    migrations_pending: bool = Field(description="true until `python -m server migrate` runs")
    workers: list[WorkerInfo] = Field(
        description="server processes seen in the last 90 seconds, on any host"
    )
    public_demo: bool = Field(description="uproot's field: always false")


class CreateStudy(Parameters):
    """``POST studies/``: a urn study for a trial that runs elsewhere."""

    name: str = Field(description="the study's name, as the urn API's `study` parameter")
    config: dict[str, Any] = Field(
        description=(
            "the urn's keys, as a session config's urn=dict(...): treatments, factors, D, "
            "alpha, beta, w, urn_selection; without starting_seed it gets 64 random bits"
        )
    )


class StudySummary(Answer):
    """One urn study: its design and counts, never its seed or RNG state."""

    name: str
    treatments: list[str]
    factors: dict[str, list[str]] = Field(description="factor -> its levels")
    num_assigned: int = Field(description="participants randomized (imported ones included)")
    treatment_totals: dict[str, int] = Field(description="treatment -> participants assigned")
    defined_in: str = Field(description="settings (URN_STUDIES, read-only) or database")
    created_at: str | None = Field(
        description="ISO 8601 UTC; null for a settings study not used yet"
    )


# --- participants' actions (server/participant_actions.py) ----------------------------------

Uname = Annotated[str, Field(min_length=1, max_length=255)]


class PlayersAction(Parameters):
    """``POST session/{sname}/players/<action>/``: who the action is for."""

    unames: list[Uname] = Field(
        min_length=1,
        max_length=500,
        description="participant codes or labels of the session (1 to 500)",
    )


class PlayersRedirect(PlayersAction):
    """``POST session/{sname}/players/redirect/``."""

    url: str = Field(
        max_length=2000, description="an absolute http:// or https:// URL (anything else: 400)"
    )


class PlayersMessage(PlayersAction):
    """``POST session/{sname}/players/message/``."""

    message: str = Field(
        max_length=2000, description="the text their open page shows (as text, not HTML)"
    )


class PlayersFields(PlayersAction):
    """``PATCH session/{sname}/players/fields/``: fields to set on each participant named."""

    fields: dict[str, Any] = Field(
        min_length=1,
        description="PARTICIPANT_FIELDS names (stored in participant.vars, as the vars API "
        "does) and `label`, with their new values; any other name is a 400",
    )
    reload: bool = Field(default=False, description="then reload their open pages")


class SkippedUname(Answer):
    """A uname an action left alone, and why."""

    uname: str
    reason: str


class PlayersActionAnswer(Answer):
    """What every participants' action answers: the participant codes it applied to under the
    action's own key (``advanced``, ``reverted``, ``ended``, ``marked_dropout``, ``reloaded``,
    ``redirected``, ``messaged``, as uproot names them), ``skipped`` with the reasons, and for
    advance, revert and end the page each participant is on now (``positions``: code -> page
    name, "" before the start, "finished" after the end). ``redirect`` also answers ``url``."""

    skipped: list[SkippedUname]


# --- rooms (server/rooms.py, server/stored_rooms.py) -----------------------------------------

RoomLabel = Annotated[str, Field(min_length=1, max_length=255)]


class RoomInfo(Answer):
    """One room, as ``GET rooms/`` and ``GET room/{roomname}/`` show it."""

    name: str
    display_name: str
    defined_in: str = Field(description="settings (settings.py ROOMS: read-only) or database")
    url: str = Field(description="the room's link for participants")
    labels: list[str] | None = Field(description="its participant labels; null: none asked")
    use_secure_urls: bool
    session_code: str | None = Field(description="its current session; null while none")
    waiting: list[str] = Field(
        description='labels of those waiting for a session now ("anonymous" without one)'
    )


class RoomCreate(Parameters):
    """``POST rooms/``: a room stored in the database."""

    name: str = Field(description="letters, digits, '_' or '-' (1 to 100)")
    display_name: str | None = Field(default=None, description="shown to participants")
    labels: list[RoomLabel] | None = Field(
        default=None, description="participant labels, as a label file's lines; null: none"
    )
    use_secure_urls: bool = Field(default=False, description="each label gets a signed link")


class RoomUpdate(Parameters):
    """``PATCH room/{roomname}/``: the fields given change (only while it has no session)."""

    display_name: str | None = None
    labels: list[RoomLabel] | None = None
    use_secure_urls: bool | None = None


class RoomChanged(Answer):
    """``POST rooms/``, ``PATCH``/``DELETE room/{roomname}/``, ``disassociate/``: the room's
    name and ``created``, ``updated``, ``deleted`` or ``disassociated`` true."""

    name: str


class RoomSessionCreate(Parameters):
    """``POST room/{roomname}/session/``: a session in the room (as ``POST sessions/``)."""

    config: str = Field(description="the session config's name")
    n_players: WholeNumber | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="number of participants; left out: one per uname, or the config's "
        "smallest valid number",
    )
    sname: str | None = Field(
        default=None,
        description="the session's code (1-32 letters, digits, _ or -); random when left out",
    )
    unames: list[str] | None = Field(
        default=None,
        max_length=10_000,
        description="participant labels, one per participant in order",
    )
    settings: dict[str, Any] | None = Field(
        default=None, description="changed config fields, checked as in the admin form"
    )
    label: str | None = Field(default=None, description="the session's label")
    description: str = Field(default="", description="the admin's notes on the session")


class RoomSessionCreated(Answer):
    """``{"sname", "roomname", "created": true}``."""

    sname: str
    roomname: str
    created: bool


class RoomOnline(Answer):
    """``GET room/{roomname}/online/``: who waits in the room now."""

    name: str
    session_code: str | None
    waiting: list[str]
    num_waiting: int


# --- the audit log (server/audit_log.py) -----------------------------------------------------


class LogQuery(Parameters):
    """``GET log/``: filters (each optional) and the page."""

    session: str | None = Field(default=None, description="only changes of this session code")
    since: SinceTime | None = Field(
        default=None,
        description="only changes at or after this time: ISO 8601 (UTC unless it says) or "
        "epoch seconds",
    )
    action: str | None = Field(
        default=None,
        max_length=64,
        description="only this action (session.archive) or family of actions (session)",
    )
    page: WholeNumber = Field(
        default=1, ge=1, le=MAX_PAGE, description="the page, from 1 (newest changes first)"
    )
    per_page: WholeNumber = Field(default=50, ge=1, le=MAX_PER_PAGE)


class LogItem(Answer):
    """One change: when (ISO 8601 UTC), who (the API key's user, the admin's name or cli),
    what (a dotted action name), what it concerned, and its details (never a secret)."""

    id: int
    at: str
    who: str
    action: str
    session: str | None
    participant: str | None
    room: str | None
    study: str | None
    details: dict[str, Any]


class LogList(Answer):
    """``GET log/``: one page, newest first, and ``next_page`` (null on the last)."""

    entries: list[LogItem]
    page: int
    per_page: int
    total: int
    next_page: int | None
