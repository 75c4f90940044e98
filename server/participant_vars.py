"""Setting participant and session vars from outside (REST, Qualtrics), keyed by room + label.

Vars posted for a label whose participant has not arrived yet are kept in
``grove_pending_vars`` and applied (with the label) when that participant arrives.

A vars post for a label and that label's arrival in the room (``server.rooms.join_room``) both
lock the room's row first (``lock_room``), so one commits before the other reads: whichever
comes first, acknowledged vars reach the participant and no pending row is left behind. The
room's row comes before the session row in the lock order (a room is its sessions' parent):
room, session, participants, then pending vars and presence rows.

Each ``set_*`` function is one use case: it checks its arguments, runs one unit of work and
returns what the caller answers with.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit_log import entry_values, record_change
from server.change_sequence import stamp_participant
from server.db import Database, dialect_insert, insert_for_dialect
from server.errors import InvalidArguments, ParticipantNotFound, RoomNotFound, SessionNotFound
from server.models.audit_log import AuditEntry
from server.models.base import stored_json
from server.models.core import ExperimentSession, Participant
from server.models.pending_vars import PendingParticipantVars
from server.models.rooms import RoomState
from server.project import Project
from server.room_definitions import is_settings_room, lock_room, room_is_defined
from server.storable_text import unstorable_character

# Labels are stored in columns of 255 characters; oTree's participant label form takes 200.
MAX_LABEL_LENGTH = 200


def participant_label_key(text: str) -> str:
    """The rule that makes two spellings of a label one label: surrounding whitespace (spaces,
    tabs, line breaks, as a Qualtrics field or a pasted link brings) is not part of it."""
    return text.strip()


def normalize_participant_label(label: Any) -> str:
    """A participant label as Grove stores and matches it, wherever it comes from (REST vars
    posts and filters, room links and forms, room label files, admin links): by
    ``participant_label_key``, then 1 to MAX_LABEL_LENGTH characters a database can store.

    Raises InvalidArguments naming participant_label otherwise.
    """
    field = "participant_label"
    if not isinstance(label, str) or not participant_label_key(label):
        raise InvalidArguments("participant_label must be a non-empty string", field=field)
    label = participant_label_key(label)
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidArguments(
            f"participant_label may be at most {MAX_LABEL_LENGTH} characters long "
            f"(this one has {len(label)})",
            field=field,
        )
    problem = unstorable_character(label)
    if problem is not None:
        raise InvalidArguments(f"participant_label cannot contain {problem}", field=field)
    return label


def optional_participant_label(label: str | None) -> str | None:
    """A label from a room link or form, normalized; None when absent or only whitespace.

    Raises InvalidArguments as ``normalize_participant_label`` does.
    """
    if label is None or not participant_label_key(label):
        return None
    return normalize_participant_label(label)


def check_code(code: Any, what: str) -> str:
    """A session or participant code that can be looked up; InvalidArguments otherwise."""
    if not isinstance(code, str) or not code:
        raise InvalidArguments(f"{what} code must be a non-empty string", field="code")
    problem = unstorable_character(code)
    if problem is not None:
        raise InvalidArguments(f"{what} code cannot contain {problem}", field="code")
    return code


def check_vars(value: Any) -> dict[str, Any]:
    """``vars`` must be a JSON object; InvalidArguments otherwise."""
    if not isinstance(value, dict):
        raise InvalidArguments("vars must be an object (dict)", field="vars")
    return value


def check_room(database: Database, project: Project, room_name: Any) -> str:
    """The room name if it names a room (of settings.ROOMS or stored); RoomNotFound otherwise."""
    if not isinstance(room_name, str) or not room_name:
        raise InvalidArguments("room_name must be a non-empty string", field="room_name")
    if is_settings_room(project.settings, room_name):
        return room_name  # no read transaction: a room of settings.ROOMS is always there
    with database.read() as db:
        if not room_is_defined(db, project.settings, room_name):
            raise RoomNotFound(f"no room named {room_name!r}")
    return room_name


# The vars posts read and write rows with Core statements on the tables: no ORM object to
# load, track and flush, and no ORM compilation and row processing (most of a post's own
# time in the profiles).
_PARTICIPANTS: sa.Table = Participant.__table__  # type: ignore[assignment]
_SESSIONS: sa.Table = ExperimentSession.__table__  # type: ignore[assignment]
_ROOMS: sa.Table = RoomState.__table__  # type: ignore[assignment]
_AUDIT: sa.Table = AuditEntry.__table__  # type: ignore[assignment]


def _opened_in_room(room_name: Any, closed_after: Any) -> sa.ColumnElement[bool]:
    """A session of the room ``room_name`` created since the room was last closed (the
    room's ``closed_after_session_id``, ``closed_after``; none closed yet when it is NULL):
    the rule of both current-session reads below."""
    return sa.and_(
        _SESSIONS.c.room_name == room_name,
        _SESSIONS.c.id > sa.func.coalesce(closed_after, 0),
    )


def current_room_session(
    db: Session, room_name: str, *, for_update: bool = False
) -> ExperimentSession | None:
    """The newest session created in the room since it was last closed, if any."""
    # One query: the room's close marker is a subquery (this runs on every Qualtrics post).
    closed_after = (
        sa.select(RoomState.closed_after_session_id)
        .where(RoomState.room_name == room_name)
        .scalar_subquery()
    )
    query = (
        sa.select(ExperimentSession)
        .where(_opened_in_room(room_name, closed_after))
        .order_by(ExperimentSession.id.desc())
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    return db.scalars(query).first()


# The room's row and its current session (id, code) in one statement. On SQLite it is also
# the room's "lock": the transaction already holds the database's write lock, so nothing can
# change between it and the read. On PostgreSQL it runs after the lock, in a statement of its
# own (a read in the locking statement would see the database from before it waited for the
# lock; at READ COMMITTED a new statement sees what was committed meanwhile).
_ROOM_STATE = _ROOMS.alias()
_ROOM_WITH_SESSION = (
    sa.select(_ROOM_STATE.c.room_name, _SESSIONS.c.id, _SESSIONS.c.code)
    .select_from(_ROOM_STATE)
    .outerjoin(
        _SESSIONS,
        _SESSIONS.c.id
        == (
            sa.select(sa.func.max(_SESSIONS.c.id))
            .where(_opened_in_room(_ROOM_STATE.c.room_name, _ROOM_STATE.c.closed_after_session_id))
            .correlate(_ROOM_STATE)
            .scalar_subquery()
        ),
    )
    .where(_ROOM_STATE.c.room_name == sa.bindparam("room"))
)


def _lock_room_with_session(db: Session, room: str) -> tuple[int, str] | None:
    """Lock the room (``lock_room``); then the id and code of its current session
    (``current_room_session``), or None. On SQLite one statement once the room has a row;
    on PostgreSQL two, both Core statements built once (an ORM select of the session,
    built anew, cost more than the rest of the post)."""
    connection = db.connection()
    if connection.dialect.name == "sqlite":
        row = connection.execute(_ROOM_WITH_SESSION, {"room": room}).first()
        if row is not None:
            return None if row.id is None else (row.id, row.code)
    lock_room(db, room)
    row = connection.execute(_ROOM_WITH_SESSION, {"room": room}).one()
    return None if row.id is None else (row.id, row.code)


# Vars kept for a label not arrived yet, read and written with Core statements (as the
# participant's below).
_PENDING: sa.Table = PendingParticipantVars.__table__  # type: ignore[assignment]
_LOCKED_PENDING = (
    sa.select(_PENDING.c.id, _PENDING.c.vars)
    .where(_PENDING.c.room_name == sa.bindparam("room"), _PENDING.c.label == sa.bindparam("label"))
    .with_for_update()
)
# Per dialect name: the INSERT of a label's first pending vars, which inserts nothing (and
# returns no id) when the label has some already.
_INSERTS_OF_NEW_PENDING: dict[str, sa.Insert] = {}


def _insert_of_new_pending(db: Session) -> sa.Insert:
    """``INSERT ... ON CONFLICT (room_name, label) DO NOTHING RETURNING id`` for the pending
    vars table on this database, built once per dialect."""
    dialect = db.get_bind().dialect.name
    statement = _INSERTS_OF_NEW_PENDING.get(dialect)
    if statement is None:
        statement = (
            dialect_insert(db, _PENDING)
            .on_conflict_do_nothing(index_elements=[_PENDING.c.room_name, _PENDING.c.label])
            .returning(_PENDING.c.id)
        )
        _INSERTS_OF_NEW_PENDING[dialect] = statement
    return statement


def _keep_pending_vars(
    db: Session, room: str, label: str, values: dict[str, Any], who: str
) -> None:
    """Keep ``values`` for ``label`` in ``room`` until it arrives (noting ``who`` posted them),
    merged into any kept before (``merged_vars``), and log the post (``participant.vars``,
    ``pending_for_label``). A label's first post (Qualtrics posts each label once) is one
    INSERT; a later one reads the kept row locked and updates it. On PostgreSQL the first
    INSERT and the log's are one statement (``_kept_and_logged``). The caller holds the
    room's lock (``lock_room``)."""
    connection = db.connection()
    details = {"vars": sorted(values), "pending_for_label": label}
    if connection.dialect.name == "postgresql":
        logged = entry_values(who, "participant.vars", room=room, details=details)
        parameters = {**logged, "label": label, "pending_vars": values, "updated_by": who}
        if connection.execute(_kept_and_logged(), parameters).first() is not None:
            return
    else:
        row = {"room_name": room, "label": label, "vars": values, "updated_by": who}
        kept = connection.execute(_insert_of_new_pending(db), row).first()
        record_change(db, who, "participant.vars", room=room, details=details)
        if kept is not None:
            return
    pending = connection.execute(_LOCKED_PENDING, {"room": room, "label": label}).one()
    merged = merged_vars(pending.vars, values)
    connection.execute(
        _MERGED_PENDING_UPDATE, {"pending_id": pending.id, "merged_vars": merged, "who": who}
    )


# A label's later pending vars written, built once (as _STAMPED_VARS_UPDATE, for the same
# reason).
_MERGED_PENDING_UPDATE = (
    _PENDING.update()
    .where(_PENDING.c.id == sa.bindparam("pending_id"))
    .values(
        vars=sa.bindparam("merged_vars", type_=_PENDING.c.vars.type),
        updated_by=sa.bindparam("who", type_=_PENDING.c.updated_by.type),
    )
)


_KEPT_AND_LOGGED: list[sa.Select[Any]] = []


def _kept_and_logged() -> sa.Select[Any]:
    """PostgreSQL: a label's first pending vars inserted (``_insert_of_new_pending``: nothing
    when the label has some already) and the post's audit row (``record_change``'s, from
    ``entry_values``) in one statement, two data-modifying CTEs; answers the new row's id, if
    any. Built on first use (the PostgreSQL dialect's module is imported only then)."""
    if not _KEPT_AND_LOGGED:
        kept = (
            insert_for_dialect("postgresql", _PENDING)
            .values(
                room_name=sa.bindparam("room_name", type_=_PENDING.c.room_name.type),
                label=sa.bindparam("label", type_=_PENDING.c.label.type),
                vars=sa.bindparam("pending_vars", type_=_PENDING.c.vars.type),
                updated_by=sa.bindparam("updated_by", type_=_PENDING.c.updated_by.type),
                updated_at=sa.bindparam("at", type_=_PENDING.c.updated_at.type),
            )
            .on_conflict_do_nothing(index_elements=[_PENDING.c.room_name, _PENDING.c.label])
            .returning(_PENDING.c.id)
            .cte("kept")
        )
        logged = (
            sa.insert(_AUDIT)
            .values(
                at=sa.bindparam("at", type_=_AUDIT.c.at.type),
                who=sa.bindparam("who", type_=_AUDIT.c.who.type),
                action=sa.bindparam("action", type_=_AUDIT.c.action.type),
                session_code=sa.bindparam("session_code", type_=_AUDIT.c.session_code.type),
                participant_code=sa.bindparam(
                    "participant_code", type_=_AUDIT.c.participant_code.type
                ),
                room_name=sa.bindparam("room_name", type_=_AUDIT.c.room_name.type),
                study_name=sa.bindparam("study_name", type_=_AUDIT.c.study_name.type),
                details=sa.bindparam("details", type_=_AUDIT.c.details.type),
            )
            .cte("logged")
        )
        _KEPT_AND_LOGGED.append(sa.select(kept.c.id).add_cte(logged))
    return _KEPT_AND_LOGGED[0]


def set_participant_vars_by_label(
    database: Database,
    project: Project,
    room_name: Any,
    label: Any,
    new_vars: Any,
    *,
    who: str,
) -> bool:
    """Merge vars into the labelled participant of the room's session, or keep them pending
    (noting ``who`` posted them); logged as ``participant.vars`` by ``who``.

    The label is normalized (``normalize_participant_label``), as the room does on arrival.
    True when the participant exists and has them, False when they wait for its arrival.
    Locks the room, then the participant or the pending row. Raises InvalidArguments,
    RoomNotFound.
    """
    room = check_room(database, project, room_name)
    label = normalize_participant_label(label)
    values = check_vars(new_vars)

    def work(db: Session) -> bool:
        session = _lock_room_with_session(db, room)
        if session is not None:
            session_id, session_code = session
            row = (
                db.connection()
                .execute(_LOCKED_BY_LABEL, {"session_id": session_id, "label": label})
                .first()
            )
            if row is not None:
                _write_merged_vars(db, row.id, row.vars, values)
                _record_vars(db, who, "participant.vars", values, session_code, row.code, room)
                return True
        _keep_pending_vars(db, room, label, values, who)
        return False

    return database.run(work)


def apply_pending_vars(db: Session, participant: Participant, room_name: str, label: str) -> None:
    """On arrival in a room: set the label and merge (then drop) any pending vars.

    The caller holds the room's lock (``lock_room``), so no vars post for the label is between
    its look for a participant and its write of a pending row.
    """
    participant.label = label
    pending = db.scalars(
        sa.select(PendingParticipantVars).where(
            PendingParticipantVars.room_name == room_name, PendingParticipantVars.label == label
        )
    ).first()
    if pending is not None:
        participant.vars = {**(participant.vars or {}), **(pending.vars or {})}
        db.delete(pending)
        db.flush()


def merged_vars(old: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """``old`` vars (None: none yet) with checked ``values`` (``check_vars``) merged in, the
    posted keys replacing theirs: the one rule every vars writer follows."""
    return {**(old or {}), **values}


def merge_participant_vars(participant: Participant, values: dict[str, Any]) -> None:
    """Merge checked vars into a locked participant's ``vars``, where PARTICIPANT_FIELDS live
    too (``merged_vars``)."""
    participant.vars = merged_vars(participant.vars, values)


def _record_vars(
    db: Session,
    who: str,
    action: str,
    values: dict[str, Any],
    session_code: str | None,
    participant_code: str | None,
    room: str | None,
) -> None:
    record_change(
        db,
        who,
        action,
        session=session_code,
        participant=participant_code,
        room=room,
        details={"vars": sorted(values)},
    )


# The participant locked, with its session's code (the audit log names it) in the same
# statement: FOR UPDATE OF the participant only, since on PostgreSQL a lock on the session row
# would queue every participant of the session behind one another.
_LOCKED_BY_CODE = (
    sa.select(_PARTICIPANTS.c.id, _PARTICIPANTS.c.vars, _SESSIONS.c.code.label("session_code"))
    .join(_SESSIONS, _SESSIONS.c.id == _PARTICIPANTS.c.session_id)
    .where(_PARTICIPANTS.c.code == sa.bindparam("code"))
    .with_for_update(of=_PARTICIPANTS)
)
_LOCKED_BY_LABEL = (
    sa.select(_PARTICIPANTS.c.id, _PARTICIPANTS.c.code, _PARTICIPANTS.c.vars)
    .where(
        _PARTICIPANTS.c.session_id == sa.bindparam("session_id"),
        _PARTICIPANTS.c.label == sa.bindparam("label"),
    )
    .with_for_update()
)


# On PostgreSQL: the participant locked as by _LOCKED_BY_CODE and the post's audit row
# inserted (``record_change``'s row, with the session's code read by the lock) in one
# statement, a data-modifying CTE: one round trip to the server fewer a post. No participant:
# no row returned, and none logged. SQLite has no INSERT in a WITH clause.
# The participant's code comes from the locked row, not a parameter: PostgreSQL coerces a
# constant to its column's type when it plans the INSERT, so a code longer than the audit
# column (no participant has one) failed even though no row was to be inserted.
_LOCKED = _LOCKED_BY_CODE.add_columns(_PARTICIPANTS.c.code.label("participant_code")).cte("locked")
_LOGGED = (
    sa.insert(_AUDIT)
    .from_select(
        ["at", "who", "action", "session_code", "participant_code", "details"],
        sa.select(
            sa.bindparam("at", type_=_AUDIT.c.at.type),
            sa.bindparam("who", type_=_AUDIT.c.who.type),
            sa.bindparam("action", type_=_AUDIT.c.action.type),
            _LOCKED.c.session_code,
            _LOCKED.c.participant_code,
            sa.bindparam("details", type_=_AUDIT.c.details.type),
        ).select_from(_LOCKED),
    )
    .cte("logged")
)
_LOCKED_AND_LOGGED = sa.select(_LOCKED.c.id, _LOCKED.c.vars, _LOCKED.c.session_code).add_cte(
    _LOGGED
)


def _of_logged_participant(name: str) -> sa.ScalarSelect[Any]:
    """The column ``name`` of the participant with the code ``:code`` (for a RETURNING clause:
    SQLite searches the code's index for a bound parameter, but scans the table for a
    reference to the returned row)."""
    return (
        sa.select(_PARTICIPANTS.c[name])
        .where(_PARTICIPANTS.c.code == sa.bindparam("code"))
        .scalar_subquery()
    )


# On SQLite: the same in one statement, an INSERT of the audit row from the participant and
# its session (no row when there is no such participant) that answers the participant's id
# and vars (SQLite's RETURNING may hold subqueries; WITH holds no INSERT). The transaction
# holds the database's write lock (BEGIN IMMEDIATE), so nothing changes the row meanwhile.
_LOGGED_WITH_PARTICIPANT = (
    sa.insert(_AUDIT)
    .from_select(
        ["at", "who", "action", "session_code", "participant_code", "details"],
        sa.select(
            sa.bindparam("at", type_=_AUDIT.c.at.type),
            sa.bindparam("who", type_=_AUDIT.c.who.type),
            sa.bindparam("action", type_=_AUDIT.c.action.type),
            _SESSIONS.c.code,
            _PARTICIPANTS.c.code,
            sa.bindparam("details", type_=_AUDIT.c.details.type),
        )
        .select_from(_PARTICIPANTS.join(_SESSIONS, _SESSIONS.c.id == _PARTICIPANTS.c.session_id))
        .where(_PARTICIPANTS.c.code == sa.bindparam("code")),
    )
    .returning(
        _of_logged_participant("id").label("id"),
        _of_logged_participant("vars").label("vars"),
    )
)


# Values whose stored JSON is the same whenever they are equal and of one exact type. Not
# float: 0.0 == -0.0, stored as different texts.
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def _changes_nothing(old: dict[str, Any] | None, values: dict[str, Any]) -> bool:
    """Whether merging ``values`` into ``old`` (``merged_vars``) leaves the stored JSON of
    ``old`` as it is: every posted key is there already with a value of the same stored
    JSON (``stored_json``; True replacing 1, equal in Python, is a change). Decided key by
    key, so the usual post (a new key, or a plain value that differs) serializes nothing."""
    if old is None:
        return False
    for key, value in values.items():
        if key not in old:
            return False
        before = old[key]
        if type(before) is type(value) and type(value) in _PLAIN_TYPES:
            if before != value:
                return False
        elif stored_json(value, f"value[{key!r}]") != stored_json(before):
            return False
    return True


def _write_merged_vars(
    db: Session, participant_id: int, old: dict[str, Any] | None, values: dict[str, Any]
) -> None:
    """Merge ``values`` into a locked participant's ``vars`` read as ``old`` (the rule of
    ``merged_vars``) and write them with the participant's change stamp
    (``server/change_sequence.py``) in one UPDATE; nothing when the merge changes nothing as
    stored (``_changes_nothing``; as the ORM's flush of an unchanged column, which stamps
    nothing either): True replacing 1, equal in Python, is written."""
    if _changes_nothing(old, values):
        return
    merged = merged_vars(old, values)
    stamp = stamp_participant(db, participant_id)
    connection = db.connection()
    if isinstance(stamp["changed_seq"], sa.ClauseElement):  # PostgreSQL: computed in the UPDATE
        connection.execute(
            _PARTICIPANTS.update()
            .where(_PARTICIPANTS.c.id == participant_id)
            .values(vars=merged, **stamp)
        )
        return
    parameters = {"participant_id": participant_id, "merged_vars": merged}
    parameters.update(seq=stamp["changed_seq"], at=stamp["changed_at"])
    connection.execute(_STAMPED_VARS_UPDATE, parameters)


# The UPDATE of _write_merged_vars with a plain stamp number (SQLite's), built once: building
# it for each post cost about as much as the rest of a changing post's Python work.
_STAMPED_VARS_UPDATE = (
    _PARTICIPANTS.update()
    .where(_PARTICIPANTS.c.id == sa.bindparam("participant_id"))
    .values(
        vars=sa.bindparam("merged_vars", type_=_PARTICIPANTS.c.vars.type),
        changed_seq=sa.bindparam("seq", type_=_PARTICIPANTS.c.changed_seq.type),
        changed_at=sa.bindparam("at", type_=_PARTICIPANTS.c.changed_at.type),
    )
)


def set_participant_vars_by_code(database: Database, code: Any, new_vars: Any, *, who: str) -> None:
    """Merge vars into the participant with this code (logged as ``participant.vars`` by
    ``who``); ParticipantNotFound if none."""
    values = check_vars(new_vars)
    code = check_code(code, "participant")

    def work(db: Session) -> None:
        connection = db.connection()
        logged = entry_values(
            who, "participant.vars", participant=code, details={"vars": sorted(values)}
        )
        statement = (
            _LOCKED_AND_LOGGED
            if connection.dialect.name == "postgresql"
            else _LOGGED_WITH_PARTICIPANT
        )
        row = connection.execute(statement, {**logged, "code": code}).first()
        if row is None:
            raise ParticipantNotFound(f"no participant with code {code!r}")
        _write_merged_vars(db, row.id, row.vars, values)

    database.run(work)


def set_session_vars_by_room(
    database: Database, project: Project, room_name: Any, new_vars: Any, *, who: str
) -> str:
    """Merge vars into the room's current session (logged as ``session.vars`` by ``who``);
    its code. SessionNotFound if none."""
    room = check_room(database, project, room_name)
    values = check_vars(new_vars)

    def work(db: Session) -> str:
        session = current_room_session(db, room, for_update=True)
        if session is None:
            raise SessionNotFound(f"room {room!r} has no session")
        session.vars = {**(session.vars or {}), **values}
        _record_vars(db, who, "session.vars", values, session.code, None, room)
        return session.code

    return database.run(work)


def set_session_vars_by_code(database: Database, code: Any, new_vars: Any, *, who: str) -> str:
    """Merge vars into the session with this code (logged as ``session.vars`` by ``who``);
    its code. SessionNotFound if none."""
    from server.sessions import get_session

    values = check_vars(new_vars)
    code = check_code(code, "session")

    def work(db: Session) -> str:
        session = get_session(db, code, for_update=True)
        session.vars = {**(session.vars or {}), **values}
        _record_vars(db, who, "session.vars", values, session.code, None, None)
        return session.code

    return database.run(work)
