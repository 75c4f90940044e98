"""Tables of the data export: page completions (the page-times export), the change counter
that orders incremental pulls on SQLite and the database identity their cursors carry
(``server/change_sequence.py``)."""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class PageCompletion(Base):
    """A participant completed (submitted, timed out of, or passed) one page.

    Written in the unit of work that moves the participant on, so a completion is stored
    exactly when the move is. oTree's page-times export (``TimeSpentRow``) has one row per
    completion; the arrival time is the participant's previous completion (or their start).
    """

    __tablename__ = "grove_page_completion"
    __table_args__ = (sa.Index("ix_grove_page_completion_participant", "participant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grove_session.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grove_participant.id", ondelete="CASCADE")
    )
    app_name: Mapped[str] = mapped_column(sa.String(255))
    page_name: Mapped[str] = mapped_column(sa.String(255))
    page_index: Mapped[int] = mapped_column(sa.Integer)
    round_number: Mapped[int] = mapped_column(sa.Integer)
    is_wait_page: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    timeout_happened: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    completed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class ChangeCounter(Base):
    """One row: the last change sequence number handed out (SQLite only; on PostgreSQL the
    sequence is the writing transaction's id)."""

    __tablename__ = "grove_change_counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class DatabaseIdentity(Base):
    """One row: the name a database got when its tables were created (a new database,
    ``resetdb``, or migration 0014 for one made before), which every export cursor carries,
    so a cursor from another database (reset, another server's) is told apart from this
    one's (``server/change_sequence.py``). A backup restored keeps it."""

    __tablename__ = "grove_database_identity"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


def new_identity_token() -> str:
    """A fresh database identity: 16 random hexadecimal digits (64 bits)."""
    return secrets.token_hex(8)


def assign_identity(connection: sa.Connection) -> str:
    """Give the database in ``connection`` a new identity (its tables were just created);
    returns the token. Runs inside the caller's transaction."""
    token = new_identity_token()
    table: sa.Table = DatabaseIdentity.__table__  # type: ignore[assignment]
    connection.execute(table.delete())
    connection.execute(table.insert().values(id=1, token=token, created_at=utcnow()))
    return token
