"""The push channel's tables: messages on their way to open pages, and live message receipts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class PushMessage(Base):
    """One message for one channel (``live:<participant code>:<page index>``), kept for the
    retention window so that a page that reconnects gets what it missed.

    Ids are never reused (AUTOINCREMENT on SQLite), so a worker that watches the table for
    ids above the last one it saw never misses a row after old ones were pruned.
    """

    __tablename__ = "grove_push_message"
    __table_args__ = (
        sa.Index("ix_grove_push_channel", "channel", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    # Epoch seconds (time.time()) when the message was stored; pruned after the retention.
    created_at: Mapped[float] = mapped_column(sa.Float, index=True)


class LiveReceipt(Base):
    """A live message a page sent that has been run: a resent copy (after a reconnect) with
    the same key is acknowledged without running the live method again."""

    __tablename__ = "grove_live_receipt"
    __table_args__ = (sa.UniqueConstraint("participant_code", "message_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_code: Mapped[str] = mapped_column(sa.String(64))
    message_key: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[float] = mapped_column(sa.Float, index=True)
