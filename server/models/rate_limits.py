"""API requests counted per key and minute, shared by every worker and host (the rate limit
of ``server/rate_limit.py``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class ApiRequestCount(Base):
    """How many requests ``key_user`` made in the minute starting at ``window_start`` (epoch
    seconds, a multiple of 60)."""

    __tablename__ = "grove_api_request_count"

    key_user: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    window_start: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer, default=0)
