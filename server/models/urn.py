"""Urn randomization tables: one state row per study and an append-only assignment log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.core import utcnow


class UrnStudy(Base):
    """A study's frozen configuration, its urn counts and RNG state (locked per draw)."""

    __tablename__ = "grove_urn_study"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    rng_state: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    num_assigned: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class UrnAssignment(Base):
    """One randomization, as it happened; never updated or deleted."""

    __tablename__ = "grove_urn_assignment"
    __table_args__ = (
        sa.UniqueConstraint("study_id", "sequence"),
        sa.UniqueConstraint("study_id", "participant_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("grove_urn_study.id"), index=True)
    sequence: Mapped[int] = mapped_column(sa.Integer)
    participant_key: Mapped[str] = mapped_column(sa.String(255))
    participant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("grove_participant.id"), nullable=True
    )
    levels: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    treatment: Mapped[str] = mapped_column(sa.Text)
    treatment_index: Mapped[int] = mapped_column(sa.Integer)
    user: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    rng_state_before: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # Imported from a study run elsewhere: counted, but not drawn here (no RNG step).
    imported: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
