"""``grove_participant.status``: oTree 6's ``participant.status``, text the app sets ("" while
the participant is in progress).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add grove_participant.status ("" for every participant made before)."""
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=50), server_default="", nullable=False)
        )


def downgrade() -> None:
    """Drop grove_participant.status."""
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.drop_column("status")
