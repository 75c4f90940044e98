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
from server.participant_pages import Redirect, lock_participant, submit_page
from server.project import Project

logger = logging.getLogger("grove.timeouts")
BATCH = 50


def due_participant_codes(db: Session, now: float) -> list[str]:
    """Participants whose page deadline (plus the grace period) has passed."""
    return list(
        db.scalars(
            sa.select(Participant.code)
            .where(
                Participant.page_deadline.is_not(None),
                Participant.page_deadline <= now - flow.TIMEOUT_GRACE_SECONDS,
            )
            .order_by(Participant.page_deadline)
            .limit(BATCH)
        )
    )


def _submit_if_due(database: Database, project: Project, code: str, now: float) -> bool:
    """Submit the participant's page if it is still due; True if it was submitted.

    Locks as every page submission does (LOCK ORDER in server/db.py), skipping a participant
    another transaction holds: their own request is moving them on.
    """

    def work(db: Session) -> int | None:
        participant = lock_participant(db, project, code, skip_locked=True)
        if participant is None or participant.page_deadline is None:
            return None
        if participant.page_deadline > now - flow.TIMEOUT_GRACE_SECONDS:
            return None
        entry = flow.current_entry(project, participant)
        if entry is None or entry.is_wait_page:
            participant.page_deadline = None
            return None
        return entry.index

    index = database.run(work)
    if index is None:
        return False
    outcome = submit_page(database, project, code, index, {}, None, timeout_happened=True)
    return isinstance(outcome, Redirect)


def submit_due_pages(database: Database, project: Project) -> int:
    """Auto-submit every page whose time is up; return how many were submitted."""
    now = time.time()
    with database.read() as db:
        codes = due_participant_codes(db, now)
    submitted = 0
    for code in codes:
        try:
            submitted += _submit_if_due(database, project, code, now)
        except Exception:
            logger.exception("auto-submitting the page of participant %s failed", code)
    return submitted
