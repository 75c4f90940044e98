"""Sessions as a script makes and changes them (the admin API): create one with a chosen code,
participant labels and a description; change a session's config fields afterwards, with the
admin form's type checks. Each function is one unit of work; no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit_log import record_change, record_session_created
from server.currency import RealWorldCurrency
from server.db import Database
from server.errors import Conflict, InvalidArguments
from server.models.core import ExperimentSession
from server.participant_vars import normalize_participant_label
from server.project import Project
from server.randomization.api_views import conceal_session_config
from server.session_admin import check_description
from server.session_config_values import NUMERIC_KEYS, stored_number
from server.session_queries import SessionListing, listing
from server.sessions import create_session, get_session, merge_modified_fields
from server.typed_json import plain

SESSION_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class NewSession:
    """What a script asks for. ``num_participants`` None: as many as ``labels``, or the
    config's smallest valid number; ``labels`` go to participants 1, 2, ... in order."""

    config_name: str
    num_participants: int | None = None
    code: str | None = None
    labels: Sequence[str] | None = None
    modified_config: Mapping[str, Any] | None = None
    room_name: str | None = None
    label: str | None = None
    description: str = ""


@dataclass(frozen=True)
class CreatedSession:
    """The new session; ``join_code`` makes its session-wide link ``/join/<join_code>``."""

    session: SessionListing
    join_code: str


def _checked_labels(labels: Sequence[str]) -> list[str]:
    checked = []
    for label in labels:
        try:
            checked.append(normalize_participant_label(label))
        except InvalidArguments as exc:
            message = str(exc).replace("participant_label", "each of unames")
            raise InvalidArguments(message, field="unames") from None
    seen: set[str] = set()
    for label in checked:
        if label in seen:
            raise InvalidArguments(f"participant label {label!r} is given twice", field="unames")
        seen.add(label)
    return checked


def create_scripted_session(
    database: Database, project: Project, request: NewSession, *, who: str
) -> CreatedSession:
    """Create a session as ``request`` says, in one unit of work; ``who`` is its creator and
    the audit log's (``session.create``).

    Raises InvalidArguments (a malformed code, labels given twice or not one per participant,
    a bad config value, size, label or description; its ``field`` names it), Conflict (the
    code is taken), SessionConfigNotFound, RoomNotFound; nothing is written then.
    """
    code = request.code
    if code is not None and not SESSION_CODE.match(code):
        raise InvalidArguments("sname must be 1 to 32 letters, digits, '_' or '-'", field="sname")
    labels = _checked_labels(request.labels) if request.labels is not None else None
    count = request.num_participants
    if labels is not None:
        if count is None:
            count = len(labels)
        if len(labels) != count:
            raise InvalidArguments(
                f"unames has {len(labels)} names for {count} participants: give one per "
                "participant",
                field="unames",
            )
    description = check_description(request.description.strip())

    def work(db: Session) -> CreatedSession:
        if code is not None:
            taken = db.scalar(sa.select(ExperimentSession.id).where(ExperimentSession.code == code))
            if taken is not None:
                raise Conflict(f"a session with code {code!r} exists already")
        session = create_session(
            db,
            project,
            request.config_name,
            count,
            modified_session_config_fields=dict(request.modified_config or {}) or None,
            room_name=request.room_name,
            label=request.label,
            created_by=who,
            code=code,
        )
        session.description = description
        if labels is not None:
            for participant, label in zip(session.get_participants(), labels, strict=True):
                participant.label = label
        db.flush()
        record_session_created(db, who, session)
        return CreatedSession(listing(session), session.join_code)

    try:
        return database.run(work)
    except sa.exc.IntegrityError:
        if code is None:
            raise
        # PostgreSQL: a concurrent request took the code after the check above.
        raise Conflict(f"a session with code {code!r} exists already") from None


def _check_same_container(key: str, current: Any, value: Any) -> None:
    # A list or a dict stays one: app code indexes it (a list of 3 turned into the text "x"
    # would then hold one letter per index). Numbers, bools and text are checked by kind in
    # merge_modified_fields.
    for kind, name in (((list, tuple), "a list"), (dict, "an object (dict)")):
        if isinstance(current, kind) and not isinstance(value, kind):
            shown = repr(current) if len(repr(current)) <= 60 else repr(current)[:57] + "..."
            raise InvalidArguments(
                f"settings: {key} must be {name}, like its value {shown}",
                field=f"settings.{key}",
            )


def set_config_fields(
    database: Database, code: str, values: Mapping[str, Any], *, who: str
) -> dict[str, Any]:
    """Change session ``code``'s config fields to ``values`` (each takes its current value's
    kind, as the admin's create form checks it: ``"2.5"`` is 2.5 for a number; the config's
    name, apps and the like cannot change, and a field the config does not have is refused);
    return the whole config (urn seed hidden).
    Logged as ``session.settings`` by ``who``, with the names of the fields changed.

    Locks the session row. Raises SessionNotFound, InvalidArguments naming the field;
    nothing is written then.
    """
    if not values:
        raise InvalidArguments("settings must name at least one config field", field="settings")

    def work(db: Session) -> dict[str, Any]:
        session = get_session(db, code, for_update=True)
        unknown = sorted(k for k in values if k not in session.config and k not in NUMERIC_KEYS)
        if unknown:
            # A misspelt field would otherwise be stored beside the real one, which stays.
            raise InvalidArguments(
                f"settings: this session's config has no field {unknown[0]!r} (it has: "
                f"{', '.join(sorted(session.config))})",
                field=f"settings.{unknown[0]}",
            )
        for key, value in values.items():
            _check_same_container(key, session.config.get(key), value)
        try:
            config = merge_modified_fields(session.config, dict(values))
        except InvalidArguments as exc:
            message = str(exc).replace("modified_session_config_fields", "settings")
            field = (exc.field or "").replace("modified_session_config_fields", "settings")
            raise InvalidArguments(message, field=field or "settings") from None
        if "participation_fee" in values:
            fee = RealWorldCurrency(stored_number(config, "participation_fee"))
            config["participation_fee"] = fee
        session.config = config
        db.flush()
        record_change(db, who, "session.settings", session=code, details={"fields": sorted(values)})
        return plain(conceal_session_config(session.config))

    return database.run(work)
