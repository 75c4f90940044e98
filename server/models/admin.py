"""Admin logins (one row per logged-in browser) and the failed-login throttle, shared by
every worker and host (``server/admin_logins.py``)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class AdminLogin(Base):
    """A login's id (what the admin cookie holds, as a SHA-256 hash here) and the tag of the
    admin password it was made with: logout deletes the row, a new password voids the tag."""

    __tablename__ = "grove_admin_login"

    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    password_tag: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )


class LoginAttempts(Base):
    """How many logins were tried from one client (or for one username) in one minute."""

    __tablename__ = "grove_login_attempts"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    window: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    attempts: Mapped[int] = mapped_column(sa.Integer)
