"""Server processes that are up, each noting itself now and then: the admin API's status
shows the workers seen recently, on every host that shares the database."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class WorkerHeartbeat(Base):
    """One worker process (``host:pid:random``), when it started and when it was last seen."""

    __tablename__ = "grove_worker"

    worker_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int] = mapped_column(sa.Integer)
    version: Mapped[str] = mapped_column(sa.String(32))
    started_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )
