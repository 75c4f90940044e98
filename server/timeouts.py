"""Submitting pages whose time limit has passed, even when the participant's browser is gone.

Every worker runs :func:`submit_due_pages` every second or so. Each due participant is handled
in its own transaction that locks the participant's row (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite) and checks again that the page is still due, so with
several workers each expired page is submitted exactly once.
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import flow
from server.db import Database
from server.models.core import Participant
from server.project import Project

logger = logging.getLogger("grove.timeouts")
BATCH = 50


def due_participant_ids(db: Session, now: float) -> list[int]:
    """Participants whose page deadline (plus the grace period) has passed."""
    return list(
        db.scalars(
            sa.select(Participant.id)
            .where(
                Participant.page_deadline.is_not(None),
                Participant.page_deadline <= now - flow.TIMEOUT_GRACE_SECONDS,
            )
            .order_by(Participant.page_deadline)
            .limit(BATCH)
        )
    )


def _submit_one(db: Session, project: Project, participant_id: int, now: float) -> bool:
    participant = db.scalars(
        sa.select(Participant)
        .where(Participant.id == participant_id)
        .with_for_update(skip_locked=True)
    ).first()
    if participant is None or participant.page_deadline is None:
        return False
    if participant.page_deadline > now - flow.TIMEOUT_GRACE_SECONDS:
        return False
    entry = flow.current_entry(project, participant)
    if entry is None or entry.is_wait_page:
        participant.page_deadline = None
        return False
    result = flow.submit_page(db, project, participant, entry.index, {}, timeout_happened=True)
    return result.accepted


def submit_due_pages(database: Database, project: Project) -> int:
    """Auto-submit every page whose time is up; return how many were submitted."""
    now = time.time()
    with database.read() as db:
        ids = due_participant_ids(db, now)
    submitted = 0
    for participant_id in ids:
        try:
            with database.transaction() as db:
                submitted += _submit_one(db, project, participant_id, now)
        except Exception:
            logger.exception("auto-submitting the page of participant %s failed", participant_id)
    return submitted
