"""An index on ``grove_participant.label`` alone: a trial's urn looks a labelled participant up
across every session of its study, which the ``(session_id, label)`` constraint cannot serve.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ix_grove_participant_label."""
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grove_participant_label"), ["label"], unique=False)


def downgrade() -> None:
    """Drop ix_grove_participant_label."""
    with op.batch_alter_table("grove_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grove_participant_label"))
