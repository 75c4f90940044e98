"""Creating sessions and finding them again: plain functions on a database session."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from server.change_sequence import stamp_new_rows
from server.codes import new_code, new_codes
from server.currency import RealWorldCurrency
from server.db import note_rows_held, report_progress
from server.errors import (
    ConfigurationError,
    InvalidArguments,
    ParticipantNotFound,
    RoomNotFound,
    SessionNotFound,
)
from server.models.core import ExperimentSession, Participant, check_declared_fields
from server.project import RESERVED_CONFIG_KEYS, Project
from server.randomization.session_urn import prepare_session_study, randomize_participant
from server.room_channel import publish_room_change
from server.room_definitions import lock_room, room_is_defined
from server.session_config_values import ConfigValueError, checked_value, stored_number
from server.storable_text import unstorable_character

NON_EDITABLE_CONFIG_KEYS = RESERVED_CONFIG_KEYS | {"mock_exogenous_data", "urn"}
MAX_PARTICIPANTS = 10_000


def database_info(project: Project) -> dict[str, Any]:
    """What model code reaches through ``object_session(row).info``: the project (its
    PARTICIPANT_FIELDS and SESSION_FIELDS, checked here), and the urn draw behind
    ``participant.randomize()`` (models import nothing of the urn). Raises
    ConfigurationError for a reserved field name."""
    try:
        check_declared_fields(project.settings.participant_fields, project.settings.session_fields)
    except ValueError as exc:
        raise ConfigurationError(f"settings.py: {exc}") from None
    return {"project": project, "randomize_participant": randomize_participant}


SESSION_LABEL_MAX_LENGTH = 255


def check_session_label(label: Any) -> str:
    """A session's label: a string of at most 255 characters that a database can store.

    Raises InvalidArguments naming the problem (PostgreSQL would refuse a NUL or a longer
    label with a server error).
    """
    if not isinstance(label, str):
        raise InvalidArguments("label must be a string", field="label")
    if len(label) > SESSION_LABEL_MAX_LENGTH:
        raise InvalidArguments(
            f"label may be at most {SESSION_LABEL_MAX_LENGTH} characters, not {len(label)}",
            field="label",
        )
    problem = unstorable_character(label)
    if problem:
        raise InvalidArguments(f"label contains {problem}", field="label")
    return label


def validate_num_participants(project: Project, config: Mapping[str, Any], value: Any) -> int:
    """Check a requested participant count; None means the smallest valid number."""
    multiple = project.group_size_multiple(config["app_sequence"])
    if value is None:
        return multiple
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArguments(
            f"num_participants must be a positive integer, not {value!r}", field="num_participants"
        )
    if value <= 0:
        raise InvalidArguments(
            f"num_participants must be a positive integer, not {value}", field="num_participants"
        )
    if value > MAX_PARTICIPANTS:
        raise InvalidArguments(
            f"num_participants may be at most {MAX_PARTICIPANTS}", field="num_participants"
        )
    if value % multiple:
        raise InvalidArguments(
            f"num_participants must be a multiple of {multiple} (the group size of "
            f"session config {config['name']!r}), not {value}",
            field="num_participants",
        )
    return value


def merge_modified_fields(config: Mapping[str, Any], modified: Any) -> dict[str, Any]:
    """The config with ``modified_session_config_fields`` applied, after checking each key.

    As in oTree, any key may be added except the reserved ones; a key the config has takes a
    value of its default's kind (``server.session_config_values``: ``"2.5"`` is read as 2.5
    for a number, ``"five dollars"`` is refused). Raises InvalidArguments naming the field.
    """
    merged = dict(config)
    if modified is None:
        return merged
    if not isinstance(modified, dict):
        raise InvalidArguments(
            "modified_session_config_fields must be an object (dict)",
            field="modified_session_config_fields",
        )
    for key, value in modified.items():
        if key in NON_EDITABLE_CONFIG_KEYS:
            raise InvalidArguments(
                f"modified_session_config_fields: {key!r} cannot be changed",
                field="modified_session_config_fields",
            )
        try:
            merged[key] = checked_value(key, value, config.get(key))
        except ConfigValueError as exc:
            default = f", like its default {config[key]!r}" if key in config else ""
            raise InvalidArguments(
                f"modified_session_config_fields: {key} {exc}{default}",
                field=f"modified_session_config_fields.{key}",
            ) from None
    return merged


def create_session(
    db: Session,
    project: Project,
    config_name: str,
    num_participants: int | None,
    *,
    modified_session_config_fields: Any = None,
    room_name: str | None = None,
    label: str | None = None,
    is_demo: bool = False,
    for_bots: bool = False,
    created_by: str | None = None,
    code: str | None = None,
) -> ExperimentSession:
    """Create a session with its participants, groups and players, and run creating_session.

    ``code``: the session's code (checked by the caller: free and well-formed); a new random
    one when None. Runs inside the caller's transaction: if anything raises, nothing is left
    behind. In a room, locks the room's row first (LOCK ORDER 0). Raises SessionConfigNotFound,
    RoomNotFound or InvalidArguments.
    """
    base_config = project.session_config(config_name)
    config = merge_modified_fields(base_config, modified_session_config_fields)
    if "participation_fee" in config:
        # Money, as oTree's session.config["participation_fee"]: a page prints "€2.50".
        fee = RealWorldCurrency(stored_number(config, "participation_fee"))
        config = {**config, "participation_fee": fee}
    count = validate_num_participants(project, config, num_participants)
    if room_name is not None:
        exists = room_is_defined(db, project.settings, room_name)  # a made-up name: no lock
        if exists:
            # The room's lock (LOCK ORDER 0), as deleting or changing a stored room takes it,
            # then the room read again: a deletion that found it without a session has
            # committed by then.
            lock_room(db, room_name)
            exists = room_is_defined(db, project.settings, room_name)
        if not exists:
            raise RoomNotFound(f"no room named {room_name!r}")
    if label is not None:
        check_session_label(label)

    session = ExperimentSession(
        code=code or new_code(),
        join_code=new_code(),
        config_name=config_name,
        config=config,
        label=label,
        room_name=room_name,
        num_participants=count,
        vars={},
        is_demo=is_demo,
        created_by=created_by,
    )
    db.add(session)
    db.flush()
    # Every row made here is this unit's alone until it commits (no other transaction sees
    # it), so creating_session may write them without the check of rows written unlocked
    # (server/unlocked_writes.py, PostgreSQL), which would lock and read them again.
    note_rows_held(db, _table(ExperimentSession), [session.id])
    prepare_session_study(db, session)
    # Rows are written with Core executemany INSERTs (one statement, or a few batches, per
    # table and round), without RETURNING: the ids are read back in one SELECT per table and
    # round. A 2,000-participant session is thousands of rows, and ORM bulk INSERTs with ids
    # returned in order ran one statement per row on SQLite.
    num_pages = len(project.page_sequence(config["app_sequence"]))
    participants = _table(Participant)
    # The flush hook does not see Core INSERTs: the rows carry the transaction's stamp.
    stamp = stamp_new_rows(db)
    _insert_rows(
        db,
        Participant,
        [
            {
                **stamp,
                "session_id": session.id,
                "code": code,
                "id_in_session": number,
                "vars": {},
                "payoff": 0.0,
                "index_in_pages": 0,
                "max_page_index": num_pages,
                "is_bot": for_bots,
            }
            for number, code in enumerate(new_codes(count), start=1)
        ],
    )
    participant_ids = list(
        db.scalars(
            sa.select(participants.c.id)
            .where(participants.c.session_id == session.id)
            .order_by(participants.c.id_in_session)
        )
    )
    note_rows_held(db, participants, participant_ids)
    for app_name in config["app_sequence"]:
        _create_app_rows(db, project, app_name, session, participant_ids)
    for app_name in config["app_sequence"]:
        app = project.apps[app_name]
        hook = app.hook("creating_session")
        if hook is None:
            continue
        subsessions = db.scalars(
            sa.select(app.subsession_cls)
            .where(app.subsession_cls.session_id == session.id)
            .order_by(app.subsession_cls.round_number)
        ).all()
        for subsession in subsessions:
            hook(subsession)
            db.flush()
            report_progress(db)
    if config.get("mock_exogenous_data") and (is_demo or for_bots):
        mock = project.mock_exogenous_data
        if mock is not None:
            mock(session)
            db.flush()
    if room_name is not None:
        publish_room_change(db, room_name)  # the room's waiting pages may join it now
    return session


def _create_app_rows(
    db: Session,
    project: Project,
    app_name: str,
    session: ExperimentSession,
    participant_ids: list[int],
) -> None:
    app = project.apps[app_name]
    # One group of everyone when the app groups by arrival (its first page does), as in oTree.
    size = (not app.groups_by_arrival and app.players_per_group) or len(participant_ids)
    for round_number in range(1, app.num_rounds + 1):
        subsession = app.subsession_cls()
        subsession.session_id = session.id
        subsession.round_number = round_number
        _apply_initials(subsession, app.fields["subsession"])
        db.add(subsession)
        db.flush()
        note_rows_held(db, _table(app.subsession_cls), [subsession.id])
        groups = _table(app.group_cls)
        group_initials = _initials(app.fields["group"])
        _insert_rows(
            db,
            app.group_cls,
            [
                {
                    **group_initials,
                    "session_id": session.id,
                    "subsession_id": subsession.id,
                    "round_number": round_number,
                    "id_in_subsession": number + 1,
                }
                for number in range(len(participant_ids) // size)
            ],
        )
        group_ids = list(
            db.scalars(
                sa.select(groups.c.id)
                .where(groups.c.subsession_id == subsession.id)
                .order_by(groups.c.id_in_subsession)
            )
        )
        note_rows_held(db, groups, group_ids)
        player_initials = _initials(app.fields["player"])
        _insert_rows(
            db,
            app.player_cls,
            [
                {
                    **player_initials,
                    "session_id": session.id,
                    "participant_id": participant_id,
                    "subsession_id": subsession.id,
                    "group_id": group_ids[position // size],
                    "round_number": round_number,
                    "id_in_group": position % size + 1,
                    "stored_payoff": 0.0,
                }
                for position, participant_id in enumerate(participant_ids)
            ],
        )
        report_progress(db)


def _insert_rows(db: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` into ``model``'s table in one Core executemany, without RETURNING:
    dicts keyed by the table's column keys (not always the attributes' names), all with the
    same keys. Raises ValueError for a key the table lacks: Core would leave that column to
    its default without a word."""
    if not rows:
        return
    table = model.__table__
    unknown = set(rows[0]) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.description} has no column keyed {sorted(unknown)}")
    db.execute(sa.insert(table), rows)


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _initials(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: field.initial for name, field in fields.items() if field.initial is not None}


def _apply_initials(row: Any, fields: Mapping[str, Any]) -> None:
    for name, value in _initials(fields).items():
        setattr(row, name, value)


def get_session(db: Session, code: str, *, for_update: bool = False) -> ExperimentSession:
    """The session with this code; SessionNotFound if there is none.

    ``for_update`` locks the row and reads it afresh: on PostgreSQL an object loaded earlier
    in the unit of work would otherwise keep the values it had before the lock was granted.
    """
    query = sa.select(ExperimentSession).where(ExperimentSession.code == code)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    session = db.scalars(query).first()
    if session is None:
        raise SessionNotFound(f"no session with code {code!r}")
    return session


@functools.cache
def _participant_query(for_update: bool, afresh: bool) -> sa.Select[Participant]:
    """The SELECT of a participant by code, built once: building it anew took about a sixth
    of a page GET's CPU time."""
    query = sa.select(Participant).where(Participant.code == sa.bindparam("code"))
    if for_update:
        return query.with_for_update().execution_options(populate_existing=True)
    # For a read, the session comes in the same query (showing a page needs its config).
    # Not with FOR UPDATE: PostgreSQL would lock the session row too, and every participant
    # of the session would queue on it.
    query = query.options(joinedload(Participant.session, innerjoin=True))
    return query.execution_options(populate_existing=True) if afresh else query


def get_participant(
    db: Session, code: str, *, for_update: bool = False, afresh: bool = False
) -> Participant:
    """The participant with this code; ParticipantNotFound if there is none.

    ``for_update`` locks the row and reads it afresh, as ``get_session`` does; ``afresh``
    reads it and its session afresh without a lock (SQLite's write lock already holds them).
    """
    query = _participant_query(for_update, afresh and not for_update)
    participant = db.scalars(query, {"code": code}).first()
    if participant is None:
        raise ParticipantNotFound(f"no participant with code {code!r}")
    return participant


def list_sessions(db: Session) -> list[ExperimentSession]:
    """Every session, oldest first."""
    return list(db.scalars(sa.select(ExperimentSession).order_by(ExperimentSession.id)))
