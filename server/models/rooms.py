"""Room presence (who is waiting) and room state (closing), shared by every worker."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class RoomPresence(Base):
    """A participant (label or browser) waiting in a room, last seen at ``last_seen``."""

    __tablename__ = "grove_room_presence"
    __table_args__ = (sa.UniqueConstraint("room_name", "visitor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_name: Mapped[str] = mapped_column(sa.String(255), index=True)
    visitor: Mapped[str] = mapped_column(sa.String(255))
    last_seen: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class RoomState(Base):
    """A room's closing mark: sessions up to ``closed_after_session_id`` no longer count."""

    __tablename__ = "grove_room_state"

    room_name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    closed_after_session_id: Mapped[int] = mapped_column(sa.Integer, default=0)


class StoredRoom(Base):
    """A room created over the admin API (``server.rooms.create_stored_room``) instead of in
    settings.ROOMS; works for participants as a settings room does. ``participant_labels`` is
    the label file's lines (None: any participant, no label asked)."""

    __tablename__ = "grove_room"

    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    display_name: Mapped[str] = mapped_column(sa.String(255))
    participant_labels: Mapped[list[str] | None] = mapped_column(sa.JSON, nullable=True)
    use_secure_urls: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
