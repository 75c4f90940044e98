"""The audit log: who changed what (REDCap's "Logging" page). No HTTP here.

WHO. Every domain function that changes a study's data or course on an admin's, a key's or a
command's behalf takes ``who`` (keyword-only): the API key's user (``Caller.who``), the admin
area's name (``admin_actor``: the admin's login name, or ``"admin"`` when no login is
required), or ``CLI`` for ``python -m server`` commands. It writes its row with
``record_change`` inside its own unit of work, so a change that fails or is refused leaves no
row and a committed change always has one. Details hold what was changed, never a secret (no
key, no urn seed or RNG state).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import Database
from server.listing_bounds import check_page, utc_bound
from server.models.audit_log import AuditEntry
from server.models.core import ExperimentSession, stored_utc, utcnow

CLI = "cli"
ADMIN = "admin"
# The API is open (no key configured, not in production) and no key was sent.
UNIDENTIFIED = "anonymous"
# A request with OTREE_REST_KEY, the server's own key.
SERVER_KEY = "otree-rest-key"
# Names the log gives to callers that are not a per-user key: no key's user may take one.
RESERVED_WHO = frozenset({CLI, ADMIN, UNIDENTIFIED, SERVER_KEY})


def admin_actor(admin_username: str | None, login_required: bool) -> str:
    """The admin area's ``who``: the admin's login name, or ``"admin"`` without a login."""
    return admin_username if login_required and admin_username else ADMIN


_INSERT_ENTRY = sa.insert(cast(sa.Table, AuditEntry.__table__))


def entry_values(
    who: str,
    action: str,
    *,
    session: str | None = None,
    participant: str | None = None,
    room: str | None = None,
    study: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row's column values as ``record_change`` inserts it (its time is now)."""
    return {
        "at": utcnow(),
        "who": who[:255],
        "action": action,
        "session_code": session,
        "participant_code": participant,
        "room_name": room,
        "study_name": study,
        "details": details or {},
    }


def record_change(
    db: Session,
    who: str,
    action: str,
    *,
    session: str | None = None,
    participant: str | None = None,
    room: str | None = None,
    study: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one row to the audit log in the caller's unit of work (it commits or rolls back
    with the change). ``action`` is a dotted name (``session.archive``, ``participant.end``);
    ``session``, ``participant``, ``room``, ``study`` name what it concerned (codes, names);
    ``details`` a small JSON object.

    The row is written at once, with a Core INSERT on the unit's connection: no object for
    the session to track and flush (its unit of work was about an eighth of a vars post's
    samples), nor the session's execution of a statement.
    """
    db.connection().execute(
        _INSERT_ENTRY,
        entry_values(
            who,
            action,
            session=session,
            participant=participant,
            room=room,
            study=study,
            details=details,
        ),
    )


def record_session_created(db: Session, who: str, session: ExperimentSession) -> None:
    """``session.create``: the new session's config, size and room (a flushed session)."""
    record_change(
        db,
        who,
        "session.create",
        session=session.code,
        room=session.room_name,
        details={
            "config": session.config.get("name"),
            "num_participants": session.num_participants,
            "label": session.label,
        },
    )


@dataclass(frozen=True)
class LogEntry:
    """One row as the API and the Log page show it; ``at`` is ISO 8601 UTC."""

    id: int
    at: str
    who: str
    action: str
    session: str | None
    participant: str | None
    room: str | None
    study: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class LogFilter:
    """Which rows to show: each given criterion must hold (None: any). ``action`` matches a
    whole name (``session.archive``) or a family (``session`` matches ``session.*``)."""

    session: str | None = None
    since: dt.datetime | None = None
    action: str | None = None


@dataclass(frozen=True)
class LogPage:
    """One page of the log, newest first; ``page`` counts from 1, ``total`` the matches."""

    entries: list[LogEntry]
    page: int
    per_page: int
    total: int

    @property
    def has_next(self) -> bool:
        """Is there a page after this one?"""
        return self.page * self.per_page < self.total


def _iso(moment: dt.datetime) -> str:
    return (
        stored_utc(moment)
        .astimezone(dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def read_log(
    database: Database, criteria: LogFilter, *, page: int = 1, per_page: int = 50
) -> LogPage:
    """The matching log rows, newest first, one page. Raises InvalidArguments (page outside
    1..MAX_PAGE, per_page outside 1..MAX_PER_PAGE, a ``since`` no UTC time can hold)."""
    check_page(page, per_page)
    conditions: list[sa.ColumnElement[bool]] = []
    if criteria.session is not None:
        conditions.append(AuditEntry.session_code == criteria.session)
    if criteria.since is not None:
        conditions.append(AuditEntry.at >= utc_bound(criteria.since, "since"))
    if criteria.action is not None:
        conditions.append(
            sa.or_(
                AuditEntry.action == criteria.action,
                AuditEntry.action.startswith(criteria.action + ".", autoescape=True),
            )
        )
    with database.read() as db:
        total = db.scalar(sa.select(sa.func.count(AuditEntry.id)).where(*conditions)) or 0
        rows = db.scalars(
            sa.select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        entries = [
            LogEntry(
                id=row.id,
                at=_iso(row.at),
                who=row.who,
                action=row.action,
                session=row.session_code,
                participant=row.participant_code,
                room=row.room_name,
                study=row.study_name,
                details=dict(row.details or {}),
            )
            for row in rows
        ]
    return LogPage(entries, page, per_page, int(total))
