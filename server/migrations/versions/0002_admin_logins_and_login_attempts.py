"""Admin logins kept on the server (logout and a new admin password void a cookie) and the
per-minute count of login attempts that throttles password guessing (server/admin_logins.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:21:29.377029
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create grove_admin_login and grove_login_attempts."""
    op.create_table(
        "grove_admin_login",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("password_tag", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("grove_admin_login", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grove_admin_login_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "grove_login_attempts",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window"),
    )


def downgrade() -> None:
    """Drop grove_admin_login and grove_login_attempts."""
    op.drop_table("grove_login_attempts")
    with op.batch_alter_table("grove_admin_login", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grove_admin_login_created_at"))

    op.drop_table("grove_admin_login")
