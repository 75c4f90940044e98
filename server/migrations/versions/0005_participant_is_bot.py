"""oTree's ``participant._is_bot``: the column ``grove_participant.is_bot``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add grove_participant.is_bot (False for every participant made before)."""
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_bot", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Drop grove_participant.is_bot."""
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.drop_column("is_bot")
