"""What the admin does to sessions: list them a page at a time, create one from the "Configure
session" form, describe, archive and delete one. Each function is one unit of work; no HTTP.

The admin pages (``server/web/admin_sessions.py``) call these, and the admin REST API can call
the same ones. Results are plain dataclasses, never rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit_log import record_change, record_session_created
from server.db import Database, lock_ids_in_order
from server.errors import InvalidArguments
from server.models.base import Base
from server.models.core import ExperimentSession, Participant
from server.models.pending_vars import PendingParticipantVars
from server.models.rooms import RoomPresence, RoomState
from server.participant_vars import current_room_session
from server.project import Project
from server.room_channel import publish_room_change
from server.room_definitions import lock_room
from server.session_config_values import NUMERIC_KEYS, kind_of
from server.session_reports import SessionLinks, links_of
from server.sessions import NON_EDITABLE_CONFIG_KEYS, create_session, get_session
from server.storable_text import unstorable_character

SESSIONS_PER_PAGE = 50
DESCRIPTION_MAX_LENGTH = 10_000
# Config keys the "Configure session" form does not offer (besides NON_EDITABLE_CONFIG_KEYS):
# the number of participants is a field of its own.
_NOT_IN_FORM = frozenset({"num_demo_participants"})
CONFIG_FIELD_PREFIX = "config."


@dataclass(frozen=True)
class AdminSessionRow:
    """A session as the admin's list shows it; ``created_at`` is ``YYYY-MM-DD HH:MM:SS`` UTC."""

    code: str
    config_name: str
    display_name: str
    label: str | None
    description: str
    num_participants: int
    room_name: str | None
    created_at: str
    is_demo: bool
    archived: bool


@dataclass(frozen=True)
class SessionListPage:
    """One page of the sessions list, newest first (``page`` counts from 1)."""

    rows: list[AdminSessionRow]
    page: int
    num_pages: int
    total: int
    archived: bool
    archived_count: int


def _utc_text(moment: dt.datetime | None) -> str:
    """``2026-11-30 13:06:20``, in UTC (SQLite hands back naive UTC times)."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def admin_row(session: ExperimentSession) -> AdminSessionRow:
    """A loaded session as the admin pages show it (inside the caller's unit of work)."""
    return AdminSessionRow(
        code=session.code,
        config_name=session.config_name,
        display_name=str(session.config.get("display_name") or session.config_name),
        label=session.label,
        description=session.description or "",
        num_participants=session.num_participants,
        room_name=session.room_name,
        created_at=_utc_text(session.created_at),
        is_demo=session.is_demo,
        archived=session.archived,
    )


def list_sessions_page(
    database: Database, *, page: int = 1, archived: bool = False, per_page: int = SESSIONS_PER_PAGE
) -> SessionListPage:
    """The sessions that are (``archived``) or are not archived, newest first, one page of
    ``per_page``. A page past the last shows the last. Raises InvalidArguments for page < 1."""
    if page < 1:
        raise InvalidArguments(f"page must be 1 or more, not {page}", field="page")
    with database.read() as db:
        total = db.scalar(
            sa.select(sa.func.count())
            .select_from(ExperimentSession)
            .where(ExperimentSession.archived.is_(archived))
        )
        archived_count = db.scalar(
            sa.select(sa.func.count())
            .select_from(ExperimentSession)
            .where(ExperimentSession.archived.is_(True))
        )
        num_pages = max(1, math.ceil((total or 0) / per_page))
        page = min(page, num_pages)
        sessions = db.scalars(
            sa.select(ExperimentSession)
            .where(ExperimentSession.archived.is_(archived))
            .order_by(ExperimentSession.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        return SessionListPage(
            rows=[admin_row(session) for session in sessions],
            page=page,
            num_pages=num_pages,
            total=total or 0,
            archived=archived,
            archived_count=archived_count or 0,
        )


def session_row(database: Database, code: str) -> AdminSessionRow:
    """One session as the admin sees it (the header of its tabs). Raises SessionNotFound."""
    with database.read() as db:
        return admin_row(get_session(db, code))


@dataclass(frozen=True)
class LinksTab:
    """A session's Links tab: the header of its tabs, and its links."""

    session: AdminSessionRow
    links: SessionLinks


def links_tab(database: Database, code: str) -> LinksTab:
    """What the Links tab shows, in one read. Raises SessionNotFound."""
    with database.read() as db:
        session = get_session(db, code)
        return LinksTab(admin_row(session), links_of(session))


@dataclass(frozen=True)
class ConfigField:
    """A config value the admin may change: ``kind`` is "bool", "number" or "str";
    ``whole`` is True for a number whose default is an int."""

    name: str
    kind: str
    value: Any
    whole: bool

    @property
    def text(self) -> str:
        """The value as its input shows it (a plain number: ``2.5``, never ``2,5``)."""
        if self.kind == "bool":
            return "on" if self.value else ""
        return str(self.value)

    @property
    def form_name(self) -> str:
        """The name of its input in the create form."""
        return CONFIG_FIELD_PREFIX + self.name


@dataclass(frozen=True)
class ConfigChoice:
    """A session config on the create form, with its editable fields."""

    name: str
    display_name: str
    doc: str
    num_demo_participants: int
    group_size_multiple: int
    fields: list[ConfigField]


def editable_config_fields(config: Mapping[str, Any]) -> list[ConfigField]:
    """The fields oTree's "Configure session" shows: every value whose default is a bool, a
    number or text, the fee and the rate first, except the config's name, apps, doc and the
    like."""
    keys = [k for k in NUMERIC_KEYS if k in config] + [k for k in config if k not in NUMERIC_KEYS]
    fields = []
    for key in keys:
        if key in NON_EDITABLE_CONFIG_KEYS or key in _NOT_IN_FORM:
            continue
        value = config[key]
        kind = kind_of(key, value)
        if kind is None:
            continue
        whole = isinstance(value, int) and not isinstance(value, bool)
        fields.append(ConfigField(key, kind, value, whole))
    return fields


def create_form_choices(project: Project) -> list[ConfigChoice]:
    """Every session config as the create form offers it."""
    return [
        ConfigChoice(
            name=name,
            display_name=str(config.get("display_name") or name),
            doc=str(config.get("doc") or ""),
            num_demo_participants=int(config.get("num_demo_participants") or 1),
            group_size_multiple=project.group_size_multiple(config["app_sequence"]),
            fields=editable_config_fields(config),
        )
        for name, config in project.session_configs.items()
    ]


@dataclass(frozen=True)
class NewSessionForm:
    """What the create form submitted, as text: ``config_values`` holds the config fields'
    inputs by config key (a check box that is not ticked is absent)."""

    config_name: str
    num_participants: str
    room_name: str = ""
    label: str = ""
    description: str = ""
    config_values: Mapping[str, str] | None = None


def _whole_number(text: str, field: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidArguments(
            f"{field} must be a whole number, not {text!r}", field=field
        ) from None


def check_description(text: str) -> str:
    """A description a database can store; InvalidArguments (field ``description``) if not."""
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise InvalidArguments(
            f"the description may be at most {DESCRIPTION_MAX_LENGTH} characters, not {len(text)}",
            field="description",
        )
    problem = unstorable_character(text)
    if problem:
        raise InvalidArguments(f"the description contains {problem}", field="description")
    return text


def _modified_fields(project: Project, form: NewSessionForm) -> dict[str, Any]:
    """The config values the form changed, as the REST API's modified_session_config_fields
    (text, read by the kind of each default): an unticked bool is False."""
    config = project.session_config(form.config_name)
    values = form.config_values or {}
    modified: dict[str, Any] = {}
    for field in editable_config_fields(config):
        if field.kind == "bool":
            submitted: Any = field.name in values
        elif field.name in values:
            submitted = values[field.name]
        else:
            continue
        if submitted != field.value:
            modified[field.name] = submitted
    return modified


def create_admin_session(
    database: Database, project: Project, form: NewSessionForm, *, who: str
) -> AdminSessionRow:
    """Create a session from the admin's form (config, size, optional room, label,
    description, changed config fields) in one unit of work; ``who`` (the admin's name) is its
    creator and the audit log's (``session.create``).

    Raises InvalidArguments (its ``field`` names the input: ``num_participants``, ``label``,
    ``description``, ``modified_session_config_fields.<key>``), SessionConfigNotFound,
    RoomNotFound; nothing is written then. As in oTree, ``mock_exogenous_data`` is not called.
    """
    count = _whole_number(form.num_participants, "num_participants")
    description = check_description(form.description.strip())
    modified = _modified_fields(project, form)

    def work(db: Session) -> AdminSessionRow:
        session = create_session(
            db,
            project,
            form.config_name,
            count,
            modified_session_config_fields=modified,
            room_name=form.room_name or None,
            label=form.label.strip() or None,
            created_by=who,
        )
        session.description = description
        db.flush()
        record_session_created(db, who, session)
        return admin_row(session)

    return database.run(work)


def set_description(database: Database, code: str, text: str, *, who: str) -> None:
    """Replace a session's description (logged as ``session.description`` by ``who``).
    Raises SessionNotFound, InvalidArguments."""
    description = check_description(text.strip())

    def work(db: Session) -> None:
        get_session(db, code, for_update=True).description = description
        record_change(
            db, who, "session.description", session=code, details={"description": description}
        )

    database.run(work)


def set_archived(database: Database, code: str, archived: bool | None, *, who: str) -> bool:
    """Archive (True: hide from the sessions list) or unarchive (False) a session, or toggle
    it (None); return whether it is archived now (logged as ``session.archive`` by ``who``).
    Locks the session row. Raises SessionNotFound."""

    def work(db: Session) -> bool:
        session = get_session(db, code, for_update=True)
        session.archived = (not session.archived) if archived is None else archived
        record_change(
            db, who, "session.archive", session=code, details={"archived": session.archived}
        )
        return session.archived

    return database.run(work)


@dataclass(frozen=True)
class DeletedSession:
    """What a deletion removed: the session's code and how many rows in all."""

    code: str
    rows: int


def _references(table: sa.Table, target: str) -> list[sa.Column]:
    return [fk.parent for fk in table.foreign_keys if fk.column.table.name == target]


def _count(result: sa.Result[Any]) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def delete_session(database: Database, project: Project, code: str, *, who: str) -> DeletedSession:
    """Delete a session and everything of it, in one unit of work: its participants, its rows
    in every app's tables, chat messages, wait-page records, and any other table that refers
    to the session or its participants (found from the foreign keys, so tables added later
    are included). A row that only points at a participant through a nullable column (the
    urn's append-only assignment log) is kept, its link cleared: the study's history and its
    replay stay whole. If the session is its room's current one, the room is closed and its
    waiting list and pending participant vars (which were waiting for this session's
    participants) are dropped. The audit log keeps its rows and gains ``session.delete`` by
    ``who``.

    Locks, in LOCK ORDER: the room, the session, each app's subsessions and groups, the
    participants. Raises SessionNotFound.
    """

    def work(db: Session) -> DeletedSession:
        session = get_session(db, code)
        room_name = session.room_name
        if room_name is not None:
            lock_room(db, room_name)
        # FOR NO KEY UPDATE, not FOR UPDATE: a participant's unit of work that holds its own
        # row and inserts a row referring to the session (a chat message, a wait-page
        # arrival) takes a key-share lock on the session row, which FOR UPDATE would make it
        # wait for while this waits for its participant: a deadlock on PostgreSQL. The DELETE
        # at the end takes the full lock once every participant is held here.
        session = db.scalars(
            sa.select(ExperimentSession)
            .where(ExperimentSession.code == code)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).one()
        session_id = session.id
        is_current_in_room = (
            room_name is not None
            and (current := current_room_session(db, room_name)) is not None
            and current.id == session_id
        )
        # The apps' tables (which refer to Grove's), then Grove's own, each dependents first.
        tables = [
            *reversed(project.metadata.sorted_tables),
            *reversed(Base.metadata.sorted_tables),
        ]
        for app_name in session.config.get("app_sequence", []):
            app = project.apps.get(app_name)
            if app is None:
                continue
            for model in (app.subsession_cls, app.group_cls):
                ids = db.scalars(sa.select(model.id).where(model.session_id == session_id))
                lock_ids_in_order(db, model, list(ids))
        participant_ids = list(
            db.scalars(sa.select(Participant.id).where(Participant.session_id == session_id))
        )
        lock_ids_in_order(db, Participant, participant_ids)
        db.expunge_all()  # the rows go with SQL below; no stale object may be flushed after

        rows = 0
        of_participants = sa.select(Participant.id).where(Participant.session_id == session_id)
        for table in tables:
            if table.name in ("grove_session", "grove_participant"):
                continue
            by_session = _references(table, "grove_session")
            for column in by_session:
                rows += _count(db.execute(sa.delete(table).where(column == session_id)))
            for column in _references(table, "grove_participant"):
                if column.nullable and not by_session:
                    db.execute(
                        sa.update(table)
                        .where(column.in_(of_participants))
                        .values({column.name: None})
                    )
                else:
                    rows += _count(db.execute(sa.delete(table).where(column.in_(of_participants))))
        rows += _count(
            db.execute(sa.delete(Participant).where(Participant.session_id == session_id))
        )
        rows += _count(
            db.execute(sa.delete(ExperimentSession).where(ExperimentSession.id == session_id))
        )
        if is_current_in_room and room_name is not None:
            # Sessions of the room older than this one stay detached, as after closing it.
            db.execute(
                sa.update(RoomState)
                .where(RoomState.room_name == room_name)
                .values(closed_after_session_id=session_id)
            )
            db.execute(sa.delete(RoomPresence).where(RoomPresence.room_name == room_name))
            db.execute(
                sa.delete(PendingParticipantVars).where(
                    PendingParticipantVars.room_name == room_name
                )
            )
            publish_room_change(db, room_name)
        record_change(
            db, who, "session.delete", session=code, room=room_name, details={"rows": rows}
        )
        return DeletedSession(code, rows)

    return database.run(work)
