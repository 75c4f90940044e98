"""The REST API's request parameters and answers, declared once as pydantic models.

Each request model is what one endpoint accepts, from the query string or the body alike (see
``server/rest/body.py``); its fields are validated here and described in the OpenAPI document
(``server/rest/spec.py``) from the same declaration. An unknown parameter is refused
(``extra="forbid"``). Form bodies and query strings carry only text, so the few fields that
are not text read a whole number or a comma-separated list from it.

The domain functions keep the rules that need the project or the database (a label's length,
a config value's kind, a multiple of the group size); the models say what shape comes in.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from server.participant_vars import MAX_LABEL_LENGTH
from server.sessions import MAX_PARTICIPANTS

LABEL_RULE = (
    "Surrounding whitespace (spaces, tabs, line breaks) is not part of a label: "
    "'alice ' and 'alice' are one label, here and in the room."
)


class Parameters(BaseModel):
    """A request's parameters: unknown ones are a 400 naming them."""

    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """An answer's body (documentation and serialization; unknown keys are kept)."""

    model_config = ConfigDict(extra="allow")


def _whole_number_text(value: Any) -> Any:
    # Form and query bodies carry strings: read whole-number strings there, ASCII digits only
    # ("²" is a digit to isdigit). A number too long for int() is out of range all the same.
    if isinstance(value, str):
        stripped = value.strip()
        digits = stripped.removeprefix("-")
        if digits.isascii() and digits.isdigit():
            if len(digits) > 18:
                return -1 if stripped.startswith("-") else MAX_PARTICIPANTS + 1
            return int(stripped)
        if stripped.lower() in ("", "null", "none"):
            return None
    return value


def _not_a_bool(value: Any) -> Any:
    # JSON's true is no count: pydantic's lax int would read it as 1 (a session of one).
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An int that JSON's true/false is not (strings of digits from a form or query still are).
WholeNumber = Annotated[int, BeforeValidator(_not_a_bool)]


_EPOCH = re.compile(r"-?\d+(\.\d+)?")


def _epoch_seconds(value: Any) -> Any:
    # A number, or digits as text, is epoch seconds however large: pydantic would read one
    # above 2e10 as milliseconds (99999999999, the year 5138, was 1973).
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) or (isinstance(value, str) and _EPOCH.fullmatch(value)):
        try:
            return dt.datetime.fromtimestamp(float(value), dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise PydanticCustomError(
                "datetime_from_epoch",
                "{value} seconds is not a time this server can read",
                {"value": value},
            ) from None
    return value


# A time given as ISO 8601 or epoch seconds (a filter's "since").
SinceTime = Annotated[dt.datetime, BeforeValidator(_epoch_seconds)]


def _comma_list(value: Any) -> Any:
    # The query string's spelling of a list: "a,b" (OpenAPI's style=form, explode=false).
    if isinstance(value, str):
        return [item for item in value.split(",") if item]
    return value


def _code_text(value: Any) -> Any:
    # oTree's clients may send a numeric label or code as a JSON number.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


ParticipantCount = Annotated[
    Annotated[int, Field(strict=True, ge=1, le=MAX_PARTICIPANTS)] | None,
    BeforeValidator(_whole_number_text),
    Field(description="null (or empty): the smallest valid number for the config"),
]
NameList = Annotated[list[str] | None, BeforeValidator(_comma_list)]
Vars = Annotated[dict[str, Any], Field(description="any JSON values, by name")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ExportFormat = Literal["csv", "csv_bom", "json"]
FORMAT_HELP = "csv (UTF-8), csv_bom (UTF-8 with a byte-order mark, for Excel) or json"
SINCE_HELP = (
    "Only participants whose data changed since: the next_since of an earlier answer "
    "(exact: a change committed after that pull is never missed; a participant written "
    "during the pull may come again), or, by the server's clock, epoch seconds or an ISO "
    "8601 time. Deleted participants are not reported. A cursor from another database (reset, "
    "another server's) or ahead of this one (a backup restored) is a 409: pull without since."
)


# Requests


class NoParameters(Parameters):
    """Takes no parameters."""


class CreateSession(Parameters):
    """``POST /api/sessions/``."""

    session_config_name: str
    num_participants: ParticipantCount
    label: str | None = None
    room_name: str | None = None
    modified_session_config_fields: dict[str, Any] | None = Field(
        default=None,
        description="config fields to change; each keeps the kind of its default",
    )


class SessionFilters(Parameters):
    """The filters of ``GET /api/sessions/{code}`` and ``POST /api/get_session/{code}``."""

    participant_labels: NameList = Field(
        default=None, description="only these participants' labels. " + LABEL_RULE
    )
    participant_vars: NameList = Field(
        default=None, description="only these participant vars (each also a key of its participant)"
    )
    session_vars: NameList = Field(
        default=None, description="only these session vars (each also a key of the session)"
    )


class ParticipantVarsByLabel(Parameters):
    """``POST /api/participant_vars/``: kept until the participant arrives, if need be."""

    room_name: str
    # The length is checked on the label without its whitespace (the domain's rule).
    participant_label: str = Field(
        description=LABEL_RULE,
        json_schema_extra={"minLength": 1, "maxLength": MAX_LABEL_LENGTH},
    )
    vars: Vars


class VarsOnly(Parameters):
    """The vars to set on the participant or session the path names."""

    vars: Vars


class SessionVarsByRoom(Parameters):
    """``POST /api/session_vars/``: the room's current session."""

    room_name: str
    vars: Vars


class RandomizeInSession(Parameters):
    """``POST /api/sessions/{code}/randomize``: participant_code or participant_label."""

    participant_code: Annotated[str | None, BeforeValidator(_code_text)] = None
    participant_label: Annotated[str | None, BeforeValidator(_code_text)] = None
    levels: Annotated[dict[str, Any] | None, BeforeValidator(lambda v: v or None)] = Field(
        default=None, description="the participant's level of each factor of the urn"
    )


class ExportQuery(Parameters):
    """The query of ``/api/export/...``."""

    format: ExportFormat = Field(default="csv", description=FORMAT_HELP)
    since: Text | None = Field(default=None, description=SINCE_HELP)
    session: Text | None = Field(
        default=None, description="a session code: only that session (else every session)"
    )


class OtreeExportQuery(Parameters):
    """The query of oTree 6's ``/api/export_wide``, ``/api/export_page_times`` and
    ``/api/export_chat``."""

    format: Literal["csv", "csv_bom"] = Field(
        default="csv", description="csv (UTF-8) or csv_bom (with a byte-order mark, for Excel)"
    )
    session_code: Text | None = Field(
        default=None, description="a session code: only that session (else every session)"
    )


class OtreeAppExportQuery(OtreeExportQuery):
    """The query of oTree 6's ``/api/export_app``: ``app`` names the app."""

    app: Text


class OtreeCustomExportQuery(OtreeAppExportQuery):
    """The query of oTree 6's ``/api/export_app_custom``: the app's ``custom_export`` (or the
    ``custom_export*`` function ``function_name`` names)."""

    function_name: Text = "custom_export"


class SessionDataQuery(Parameters):
    """The query of ``/api/sessions/{code}/data``."""

    format: ExportFormat = Field(default="json", description=FORMAT_HELP)
    since: Text | None = Field(default=None, description=SINCE_HELP)


class StudyQuery(Parameters):
    """The reference urn API's study: a study name or a session code."""

    study: str


class StudyRandomize(BaseModel):
    """The reference urn API's draw: ``id`` and one parameter per factor (its level)."""

    model_config = ConfigDict(extra="allow")

    study: str
    id: str


# Answers


class FieldError(BaseModel):
    """One bad field: its name (nested names joined with dots) and what is wrong with it."""

    field: str
    message: str


class Error(BaseModel):
    """The one error body of the whole API."""

    ok: Literal[False]
    status: int
    error: str = Field(description="what is wrong, naming each bad field")
    errors: list[FieldError]


class Version(BaseModel):
    """``GET /api/otree_version``."""

    version: str = Field(examples=["6.0.15"])
    grove_version: str | None = None


class SessionConfig(Answer):
    """A session config, merged with SESSION_CONFIG_DEFAULTS (and any other keys it has)."""

    name: str
    display_name: str
    app_sequence: list[str]
    num_demo_participants: int
    doc: str | None = None
    real_world_currency_per_point: float | None = None
    participation_fee: float | None = None


class Room(BaseModel):
    """A room and the code of its current session."""

    name: str
    session_code: str | None
    url: str
    display_name: str | None = None
    has_participant_labels: bool | None = None


class Created(BaseModel):
    """A created session's code and links (room_url only for a session in a room)."""

    code: str
    session_wide_url: str
    admin_url: str
    room_url: str | None = None


class SessionSummary(BaseModel):
    """What every listing shows of a session."""

    code: str
    config_name: str
    num_participants: int
    label: str = Field(description='"" when the session has none, as in oTree')
    created_at: float | None = Field(description="seconds since the epoch, as oTree's")
    session_wide_url: str
    admin_url: str
    room_name: str | None
    room_url: str | None = Field(
        default=None, description="the room's link; only for a session in a room, as in oTree"
    )


class SessionDetail(SessionSummary):
    """A session with its config, vars, participants and urn state (requested vars that are
    set are also keys of the session and of each participant, as in oTree)."""

    model_config = ConfigDict(extra="allow")

    config: dict[str, Any]
    vars: dict[str, Any]
    REAL_WORLD_CURRENCY_CODE: str | None = None
    participants: list[dict[str, Any]]
    urn: Any = None


class VarsSet(BaseModel):
    """Participant vars set now (applied) or kept until the participant arrives (pending)."""

    ok: bool
    applied: bool
    pending: bool


class SessionVarsSet(BaseModel):
    """Session vars set on the session with this code."""

    ok: bool
    code: str


class Randomized(BaseModel):
    """The participant's treatment from the session's urn (new: drawn by this request)."""

    participant_code: str
    treatment: Any
    sequence: int | None = None
    new: bool


class ExportJSON(BaseModel):
    """An export as JSON (``format=json``); CSV answers are text with the same columns."""

    next_since: str = Field(description="the cursor to pass as since in the next pull")
    columns: list[str]
    rows: list[dict[str, Any]] = Field(description="one object per row, keyed by column")


class UrnAnswer(BaseModel):
    """The reference urn API's answer (its errors have the same shape)."""

    message: str
    results: Any = None
    status: int
