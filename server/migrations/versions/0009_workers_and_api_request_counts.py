"""``grove_worker`` (each server process notes itself: the admin API's status lists the
workers seen recently) and ``grove_api_request_count`` (API requests per key and minute, for
the rate limit shared by every worker).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create grove_worker and grove_api_request_count."""
    op.create_table(
        "grove_worker",
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id"),
    )
    with op.batch_alter_table("grove_worker", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grove_worker_seen_at"), ["seen_at"], unique=False)
    op.create_table(
        "grove_api_request_count",
        sa.Column("key_user", sa.String(length=255), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_user", "window_start"),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("grove_api_request_count")
    with op.batch_alter_table("grove_worker", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grove_worker_seen_at"))
    op.drop_table("grove_worker")
