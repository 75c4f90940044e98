"""Submitting pages whose time limit has passed, even when the participant's browser is gone.

Every worker runs :func:`submit_due_pages` every second or so. Each due participant is handled
in its own transaction that locks the participant's row (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite) and checks again that the page is still due, so with
several workers each expired page is submitted exactly once.

A page whose automatic submission fails (an app hook raising) is logged once, with the
participant and the page, and left alone for a while (:data:`RETRY_AFTER_SECONDS`, doubling
up to :data:`RETRY_AFTER_MAX_SECONDS`): the sweep never retries it in a tight loop, and the
pages behind it in deadline order are still submitted. This memory is per worker process.

The same sweep moves dropouts on (``server.dropouts``: each of their pages is due at once) and
re-runs ``group_by_arrival_time`` for wait pages with players still waiting
(:func:`regroup_waiting`), so a ``group_by_arrival_time_method`` that lets a
lone player go after some time releases them even if nobody else arrives.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import flow
from server.arrival_grouping import waiting_to_be_grouped
from server.db import Database
from server.dropouts import dropouts_to_move, move_dropout_one_page
from server.errors import DatabaseUnavailable
from server.models.core import Participant
from server.participant_pages import (
    Redirect,
    lock_participant,
    regroup_by_arrival,
    submit_page,
)
from server.project import Project

logger = logging.getLogger("grove.timeouts")
BATCH = 50
RETRY_AFTER_SECONDS = 30.0
RETRY_AFTER_MAX_SECONDS = 600.0
# The most pages one dropout moves in one sweep (then the next sweep goes on).
MAX_DROPOUT_STEPS = 200


@dataclass
class _Failure:
    """A participant whose page failed to auto-submit: which page, and when to try again."""

    page_index: int
    retry_at: float
    delay: float


# participant code -> its failure, in this worker process.
_failures: dict[str, _Failure] = {}
_failures_lock = threading.Lock()


def due_participant_codes(db: Session, now: float, skip: Collection[str] = ()) -> list[str]:
    """Participants whose page deadline (plus the grace period) has passed, but not ``skip``."""
    query = sa.select(Participant.code).where(
        Participant.page_deadline.is_not(None),
        Participant.page_deadline <= now - flow.TIMEOUT_GRACE_SECONDS,
    )
    if skip:
        query = query.where(Participant.code.not_in(sorted(skip)))
    return list(db.scalars(query.order_by(Participant.page_deadline).limit(BATCH)))


def _backing_off(now: float) -> set[str]:
    """Participants whose failed page is not to be tried again yet."""
    with _failures_lock:
        for code in [c for c, f in _failures.items() if f.retry_at < now - RETRY_AFTER_MAX_SECONDS]:
            del _failures[code]  # not failing any more (moved on, or the session is gone)
        return {code for code, failure in _failures.items() if failure.retry_at > now}


def _record_failure(code: str, page_index: int | None, now: float, action: str) -> None:
    """Remember a failed ``action`` on a participant's page; log it the first time this page
    of theirs fails (with its traceback), later failures at debug level only."""
    index = -1 if page_index is None else page_index
    with _failures_lock:
        previous = _failures.get(code)
        same_page = previous is not None and previous.page_index == index
        delay = RETRY_AFTER_SECONDS
        if previous is not None and same_page:
            delay = min(previous.delay * 2, RETRY_AFTER_MAX_SECONDS)
        _failures[code] = _Failure(index, now + delay, delay)
    if same_page:
        logger.debug("%s page %s of participant %s failed again", action, page_index, code)
    else:
        logger.exception(
            "%s page %s of participant %s failed; trying again in %.0f s",
            action,
            page_index,
            code,
            delay,
        )


def _submit_if_due(
    database: Database, project: Project, code: str, now: float, attempted: list[int]
) -> bool:
    """Submit the participant's page if it is still due; True if it was submitted.

    ``attempted`` receives the index of the page it tries to submit (for the failure log).

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
    attempted.append(index)
    outcome = submit_page(database, project, code, index, {}, None, timeout_happened=True)
    return isinstance(outcome, Redirect)


def submit_due_pages(database: Database, project: Project) -> int:
    """Auto-submit every page whose time is up; return how many were submitted.

    Then re-run ``group_by_arrival_time`` where players wait (a failure there is logged).
    Raises DatabaseUnavailable, untouched, when the database cannot be used: no page is
    marked as failing for it.
    """
    now = time.time()
    with database.read() as db:
        codes = due_participant_codes(db, now, skip=_backing_off(now))
    submitted = 0
    for code in codes:
        attempted: list[int] = []
        try:
            submitted += _submit_if_due(database, project, code, now, attempted)
        except DatabaseUnavailable:
            raise  # not this page's fault: the sweep stops and the caller says it once
        except Exception:
            _record_failure(code, attempted[-1] if attempted else None, now, "auto-submitting")
        else:
            with _failures_lock:
                _failures.pop(code, None)
    submitted += move_dropouts(database, project)
    regroup_waiting(database, project)
    return submitted


def move_dropouts(database: Database, project: Project) -> int:
    """Move each dropout that can move as far as they can, one page per unit of work
    (``server.dropouts``); return how many pages they moved. A failing page is remembered and
    logged as a timed-out page's is."""
    now = time.time()
    with database.read() as db:
        codes = dropouts_to_move(db, project, skip=_backing_off(now))
    moved = 0
    for code in codes:
        try:
            # At most the session's pages and the end: each step moves one page forward.
            for _step in range(MAX_DROPOUT_STEPS):
                if not move_dropout_one_page(database, project, code):
                    break
                moved += 1
        except DatabaseUnavailable:
            raise
        except Exception:
            _record_failure(code, None, now, "moving the dropout on from")
        else:
            with _failures_lock:
                _failures.pop(code, None)
    return moved


def regroup_waiting(database: Database, project: Project) -> int:
    """Re-run ``group_by_arrival_time`` on each wait page where players wait; return how
    many of the participants it was run for passed their wait page."""
    now = time.time()
    with database.read() as db:
        waiting = waiting_to_be_grouped(db, project)
    skip = _backing_off(now)
    passed = 0
    for code, index in waiting:
        if code in skip:
            continue
        try:
            passed += regroup_by_arrival(database, project, code, index)
        except DatabaseUnavailable:
            raise
        except Exception:
            _record_failure(code, index, now, "grouping by arrival time on")
    return passed
