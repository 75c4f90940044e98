"""``grove_participant.is_dropout`` (the admin API's dropout, oTree's ``participant.is_dropout``)
and ``grove_room`` (rooms created over the admin API rather than in settings.ROOMS).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add grove_participant.is_dropout (False for every participant made before) and create
    grove_room."""
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_dropout", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_grove_participant_is_dropout"), ["is_dropout"], unique=False
        )
    op.create_table(
        "grove_room",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("participant_labels", sa.JSON(), nullable=True),
        sa.Column("use_secure_urls", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    """Drop grove_room and grove_participant.is_dropout."""
    op.drop_table("grove_room")
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grove_participant_is_dropout"))
        batch_op.drop_column("is_dropout")
