"""Page completions, recorded as they happen, for the page-times export."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.change_sequence import stamp_participants
from server.models.core import Participant, utcnow
from server.models.export_log import PageCompletion
from server.project import PageEntry

_INSERT_COMPLETION = sa.insert(cast(sa.Table, PageCompletion.__table__))


def record_completion(
    db: Session, participant: Participant, entry: PageEntry, *, timeout_happened: bool = False
) -> None:
    """Store that ``participant`` completed ``entry`` now (a page submitted or timed out, a
    wait page passed), in the caller's unit of work: one INSERT, no lock. oTree writes the same
    facts (``TimeSpentRow``) when a page is completed.

    A Core INSERT, sent at once: no object for the unit of work to track and flush (the row
    is never read back in the unit of work that writes it)."""
    db.connection().execute(
        _INSERT_COMPLETION, _completion_row(participant, entry, timeout_happened, utcnow())
    )


def record_wait_page_completions(
    db: Session, participants: list[Participant], entry: PageEntry
) -> None:
    """``record_completion`` of wait page ``entry`` for each of ``participants``, moved on
    together by the unit of work that completed it: one INSERT of all the rows."""
    if not participants:
        return
    now = utcnow()
    db.connection().execute(
        _INSERT_COMPLETION, [_completion_row(p, entry, False, now) for p in participants]
    )


def record_passing_completions(
    db: Session, participants: list[Participant], entry: PageEntry
) -> None:
    """``record_wait_page_completions`` for those of ``participants`` who have no row of wait
    page ``entry`` yet: members of its group (or subsession) who were not on it when it
    completed (they skipped it, or the admin moved them past it). oTree writes a row for
    every member at the completion (``WaitPage._mark_page_completions``). One SELECT, one
    INSERT."""
    if not participants:
        return
    recorded = set(
        db.scalars(
            sa.select(PageCompletion.participant_id).where(
                PageCompletion.session_id == participants[0].session_id,
                PageCompletion.page_index == entry.index,
                PageCompletion.participant_id.in_([p.id for p in participants]),
            )
        )
    )
    unrecorded = [p for p in participants if p.id not in recorded]
    record_wait_page_completions(db, unrecorded, entry)
    # Their participant rows are not otherwise changed by this unit of work: stamped, so an
    # incremental pull (?since=) returns the new rows.
    stamp_participants(db, [p.id for p in unrecorded])


def _completion_row(
    participant: Participant, entry: PageEntry, timeout_happened: bool, completed_at: Any
) -> dict[str, Any]:
    return {
        "session_id": participant.session_id,
        "participant_id": participant.id,
        "app_name": entry.app_name,
        "page_name": entry.page_name,
        "page_index": entry.index,
        "round_number": entry.round_number,
        "is_wait_page": entry.is_wait_page,
        "timeout_happened": timeout_happened,
        "completed_at": completed_at,
    }
