"""The push channel's message table and live message receipts (live pages).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create grove_push_message and grove_live_receipt."""
    op.create_table(
        "grove_push_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_grove_push_channel", "grove_push_message", ["channel", "created_at"])
    op.create_index(op.f("ix_grove_push_message_created_at"), "grove_push_message", ["created_at"])
    op.create_table(
        "grove_live_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_code", sa.String(length=64), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("participant_code", "message_key"),
    )
    op.create_index(op.f("ix_grove_live_receipt_created_at"), "grove_live_receipt", ["created_at"])


def downgrade() -> None:
    """Drop grove_live_receipt and grove_push_message."""
    op.drop_index(op.f("ix_grove_live_receipt_created_at"), table_name="grove_live_receipt")
    op.drop_table("grove_live_receipt")
    op.drop_index(op.f("ix_grove_push_message_created_at"), table_name="grove_push_message")
    op.drop_index("ix_grove_push_channel", table_name="grove_push_message")
    op.drop_table("grove_push_message")
