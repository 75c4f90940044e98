"""Grove's own tables as every Grove made them before migrations existed (the baseline).

A database made by such a Grove (these tables, no ``alembic_version``) is stamped with this
revision at start (``server.schema_versions``). JSON columns are plain ``sa.JSON`` here: the
models' ``TypedJSON`` only changes what Python reads and writes.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tables every Grove made before migrations existed."""
    op.create_table(
        "grove_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
        sa.UniqueConstraint("user"),
    )
    op.create_table(
        "grove_pending_vars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_name", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("vars", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("room_name", "label"),
    )
    op.create_table(
        "grove_room_presence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_name", sa.String(length=255), nullable=False),
        sa.Column("visitor", sa.String(length=255), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("room_name", "visitor"),
    )
    op.create_index(
        op.f("ix_grove_room_presence_room_name"), "grove_room_presence", ["room_name"], unique=False
    )
    op.create_table(
        "grove_room_state",
        sa.Column("room_name", sa.String(length=255), nullable=False),
        sa.Column("closed_after_session_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("room_name"),
    )
    op.create_table(
        "grove_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("join_code", sa.String(length=32), nullable=False),
        sa.Column("config_name", sa.String(length=255), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("room_name", sa.String(length=255), nullable=True),
        sa.Column("num_participants", sa.Integer(), nullable=False),
        sa.Column("vars", sa.JSON(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("join_code"),
    )
    op.create_index(
        op.f("ix_grove_session_room_name"), "grove_session", ["room_name"], unique=False
    )
    op.create_table(
        "grove_urn_study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("rng_state", sa.JSON(), nullable=False),
        sa.Column("num_assigned", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "grove_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("id_in_session", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("vars", sa.JSON(), nullable=False),
        sa.Column("payoff", sa.Float(), nullable=False),
        sa.Column("index_in_pages", sa.Integer(), nullable=False),
        sa.Column("max_page_index", sa.Integer(), nullable=False),
        sa.Column("current_app", sa.String(length=255), nullable=True),
        sa.Column("current_page_name", sa.String(length=255), nullable=True),
        sa.Column("current_round", sa.Integer(), nullable=True),
        sa.Column("page_deadline", sa.Float(), nullable=True),
        sa.Column("visited", sa.Boolean(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("browser_token", sa.String(length=64), nullable=True),
        sa.Column("time_started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["grove_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("session_id", "id_in_session"),
        sa.UniqueConstraint("session_id", "label"),
    )
    op.create_index(
        op.f("ix_grove_participant_browser_token"),
        "grove_participant",
        ["browser_token"],
        unique=False,
    )
    op.create_index(
        op.f("ix_grove_participant_page_deadline"),
        "grove_participant",
        ["page_deadline"],
        unique=False,
    )
    op.create_index(
        op.f("ix_grove_participant_session_id"), "grove_participant", ["session_id"], unique=False
    )
    op.create_table(
        "grove_wait_done",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["grove_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "page_index", "scope"),
    )
    op.create_index(
        op.f("ix_grove_wait_done_session_id"), "grove_wait_done", ["session_id"], unique=False
    )
    op.create_table(
        "grove_chat_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("nickname", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["grove_participant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["grove_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_grove_chat_channel", "grove_chat_message", ["session_id", "channel", "id"], unique=False
    )
    op.create_table(
        "grove_urn_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("participant_key", sa.String(length=255), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("treatment", sa.Text(), nullable=False),
        sa.Column("treatment_index", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=True),
        sa.Column("rng_state_before", sa.JSON(), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["grove_participant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["grove_urn_study.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "participant_key"),
        sa.UniqueConstraint("study_id", "sequence"),
    )
    op.create_index(
        op.f("ix_grove_urn_assignment_study_id"), "grove_urn_assignment", ["study_id"], unique=False
    )
    op.create_table(
        "grove_wait_arrival",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["grove_participant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["grove_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("participant_id", "page_index"),
    )
    op.create_index(
        op.f("ix_grove_wait_arrival_session_id"), "grove_wait_arrival", ["session_id"], unique=False
    )


def downgrade() -> None:
    """Drop every Grove table (and all their data)."""
    op.drop_table("grove_wait_arrival")
    op.drop_table("grove_urn_assignment")
    op.drop_table("grove_chat_message")
    op.drop_table("grove_wait_done")
    op.drop_table("grove_participant")
    op.drop_table("grove_urn_study")
    op.drop_table("grove_session")
    op.drop_table("grove_room_state")
    op.drop_table("grove_room_presence")
    op.drop_table("grove_pending_vars")
    op.drop_table("grove_api_key")
