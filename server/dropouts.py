"""Moving dropped-out participants on: each page of theirs is due at once.

A participant marked as a dropout (``participant_actions.mark_dropouts``, or app code setting
``participant.is_dropout = True`` as in oTree's documented recipe) has no one at the screen.
Every worker's timeout sweep (``server.timeouts.submit_due_pages``) calls
``dropouts_to_move`` and then ``move_dropout_one_page`` for each, over and over while they move:
a page is submitted as its timeout would submit it (``timeout_happened`` True, the form's
timeout values), and a wait page counts as their arrival; they pass it with their group, and
when they are the last one there, ``after_all_players_arrive`` runs then. No HTTP here.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import flow
from server.db import Database
from server.models.core import ExperimentSession, Participant, WaitPageCompletion
from server.participant_pages import lock_participant
from server.project import Project

BATCH = 50


def dropouts_to_move(db: Session, project: Project, skip: Collection[str] = ()) -> list[str]:
    """Codes of unfinished dropouts (not ``skip``, at most BATCH) that may move now: on a page,
    not started, or on a wait page that some group or the subsession has completed (whether
    it is theirs, the unit of work decides)."""
    query = (
        sa.select(
            Participant.code,
            Participant.session_id,
            Participant.index_in_pages,
            ExperimentSession.config,
        )
        .join(ExperimentSession, ExperimentSession.id == Participant.session_id)
        .where(Participant.is_dropout.is_(True), Participant.finished.is_(False))
        .order_by(Participant.id)
    )
    if skip:
        query = query.where(Participant.code.not_in(sorted(skip)))
    due: list[str] = []
    waiting: dict[tuple[int, int], list[str]] = {}
    for code, session_id, index, config in db.execute(query):
        pages = project.page_sequence(config["app_sequence"])
        if 1 <= index <= len(pages) and pages[index - 1].is_wait_page:
            waiting.setdefault((session_id, index), []).append(code)
        else:
            due.append(code)
    if waiting:
        completed = db.execute(
            sa.select(WaitPageCompletion.session_id, WaitPageCompletion.page_index)
            .where(WaitPageCompletion.session_id.in_({s for s, _ in waiting}))
            .distinct()
        ).all()
        for session_id, index in completed:
            due.extend(waiting.get((session_id, index), []))
    return due[:BATCH]


def move_dropout_one_page(database: Database, project: Project, code: str) -> bool:
    """Move a dropout on by one page if they can move; True if they moved. One unit of work
    that locks as a page submission (LOCK ORDER), skipping a participant another transaction
    holds. Raises what the app's hooks raise (nothing is stored then)."""

    def work(db: Session) -> bool:
        participant = lock_participant(db, project, code, skip_locked=True)
        if participant is None or not participant.is_dropout or participant.finished:
            return False
        if participant.index_in_pages == 0:
            flow.start(db, project, participant)
            return True
        entry = flow.current_entry(project, participant)
        assert entry is not None  # started and not finished
        if entry.is_wait_page:
            return flow.arrive_at_wait_page(db, project, participant)
        result = flow.submit_page(db, project, participant, entry.index, {}, forced=True)
        return result.accepted

    return database.run(work)
