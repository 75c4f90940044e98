"""The data export's tables: page completions (the page-times export), the change counter
(incremental pulls on SQLite) and each participant's change sequence (server/change_sequence.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:34:56.751271
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create grove_page_completion and grove_change_counter; add changed_seq/changed_at."""
    op.create_table(
        "grove_change_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "grove_page_completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("app_name", sa.String(length=255), nullable=False),
        sa.Column("page_name", sa.String(length=255), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("is_wait_page", sa.Boolean(), nullable=False),
        sa.Column("timeout_happened", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["grove_participant.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["grove_session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("grove_page_completion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_grove_page_completion_participant", ["participant_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grove_page_completion_session_id"), ["session_id"], unique=False
        )

    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changed_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_grove_participant_changed_at"), ["changed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grove_participant_changed_seq"), ["changed_seq"], unique=False
        )


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grove_participant_changed_seq"))
        batch_op.drop_index(batch_op.f("ix_grove_participant_changed_at"))
        batch_op.drop_column("changed_at")
        batch_op.drop_column("changed_seq")

    with op.batch_alter_table("grove_page_completion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grove_page_completion_session_id"))
        batch_op.drop_index("ix_grove_page_completion_participant")

    op.drop_table("grove_page_completion")
    op.drop_table("grove_change_counter")
