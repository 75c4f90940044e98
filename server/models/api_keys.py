"""Per-user API keys: only a SHA-256 hash of each key is stored."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class ApiKey(Base):
    """One user's current key (REDCap-style token)."""

    __tablename__ = "grove_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(sa.String(255), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # read, write or admin (server/api_keys.py's SCOPES); keys made before scopes are admin.
    scope: Mapped[str] = mapped_column(sa.String(16), default="admin", server_default="admin")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(
        sa.DateTime(timezone=True), nullable=True
    )
