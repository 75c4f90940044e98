"""``grove_audit_log``: who changed what, when (REDCap's "Logging"), append-only.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 19:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create grove_audit_log and its indexes (time, action, session)."""
    op.create_table(
        "grove_audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("session_code", sa.String(length=255), nullable=True),
        sa.Column("participant_code", sa.String(length=255), nullable=True),
        sa.Column("room_name", sa.String(length=255), nullable=True),
        sa.Column("study_name", sa.String(length=255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("grove_audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grove_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_grove_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(
            "ix_grove_audit_log_session_code", ["session_code", "id"], unique=False
        )


def downgrade() -> None:
    """Drop grove_audit_log."""
    with op.batch_alter_table("grove_audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_grove_audit_log_session_code")
        batch_op.drop_index(batch_op.f("ix_grove_audit_log_action"))
        batch_op.drop_index(batch_op.f("ix_grove_audit_log_at"))
    op.drop_table("grove_audit_log")
