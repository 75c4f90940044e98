"""``grove_session.changed_seq``, ``changed_at`` and ``row_version``: a change to a session
stamps the session's own row (not every participant's), and its UPDATE names the version it
read, so two units of work writing session.vars at once cannot lose one's change.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the three columns (0, empty and 1 for every session made before: their changes
    stamped their participants, as before)."""
    with op.batch_alter_table("grove_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changed_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("row_version", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade() -> None:
    """Drop the three columns."""
    with op.batch_alter_table("grove_session", schema=None) as batch_op:
        batch_op.drop_column("row_version")
        batch_op.drop_column("changed_at")
        batch_op.drop_column("changed_seq")
