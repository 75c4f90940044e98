"""Chat messages of ``{{ chat }}`` boxes, stored so every worker sees them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class ChatMessage(Base):
    """One message in one channel of one session."""

    __tablename__ = "grove_chat_message"
    __table_args__ = (sa.Index("ix_grove_chat_channel", "session_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("grove_session.id"))
    channel: Mapped[str] = mapped_column(sa.String(255))
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("grove_participant.id"))
    nickname: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
