"""A session's description (the admin's notes) and its archived flag (the sessions list hides
archived sessions behind a toggle), as oTree's admin has them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:33:54.225152
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add grove_session.description (empty) and grove_session.archived (false)."""
    with op.batch_alter_table("grove_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Drop grove_session.archived and grove_session.description."""
    with op.batch_alter_table("grove_session", schema=None) as batch_op:
        batch_op.drop_column("archived")
        batch_op.drop_column("description")
