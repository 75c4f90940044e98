"""``grove_database_identity``: the name export cursors carry, so a cursor from another
database (one reset, another server's) is refused instead of answered as this one's. A
database made before gets its identity here; the ``c<number>`` cursors it handed out keep
working (``server/change_sequence.py``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:10:00.000000
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table with the database's identity: 16 random hexadecimal digits."""
    table = op.create_table(
        "grove_database_identity",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(
        table, [{"id": 1, "token": secrets.token_hex(8), "created_at": dt.datetime.now(dt.UTC)}]
    )


def downgrade() -> None:
    """Drop the table (cursors go back to ``c<number>``)."""
    op.drop_table("grove_database_identity")
