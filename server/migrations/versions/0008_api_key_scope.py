"""A scope for each API key: the column ``grove_api_key.scope`` (read, write or admin).

Keys made before scopes existed could do everything, so they become ``admin``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add grove_api_key.scope ('admin' for every key made before)."""
    with op.batch_alter_table("grove_api_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=16), server_default="admin", nullable=False)
        )


def downgrade() -> None:
    """Drop grove_api_key.scope."""
    with op.batch_alter_table("grove_api_key", schema=None) as batch_op:
        batch_op.drop_column("scope")
