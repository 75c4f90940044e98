"""Participant vars posted for a room label before that participant has arrived."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class PendingParticipantVars(Base):
    """Vars waiting for the participant with ``label`` to arrive in ``room_name``."""

    __tablename__ = "grove_pending_vars"
    __table_args__ = (sa.UniqueConstraint("room_name", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_name: Mapped[str] = mapped_column(sa.String(255))
    label: Mapped[str] = mapped_column(sa.String(255))
    vars: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_by: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
