"""The audit log (REDCap's "Logging"): one append-only row per change an admin, an API key's
user or a command made. No foreign keys: a row outlives the session, room or key it names."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class AuditEntry(Base):
    """Who (an API key's user, the admin's login name, ``cli``) did what (``action``), when,
    to which session / participant / room / study, with a small JSON of details (never a key
    or a seed). Written in the unit of work of the change it records."""

    __tablename__ = "grove_audit_log"
    __table_args__ = (sa.Index("ix_grove_audit_log_session_code", "session_code", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    who: Mapped[str] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    session_code: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    participant_code: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    room_name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    study_name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
