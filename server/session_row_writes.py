"""Session rows written by units of work that did not lock them (PostgreSQL).

A page submission, a live message or a timeout locks the group (or subsession) of the
participant's page and the participant's row (LOCK ORDER in ``server/db.py``), not the
session's: every participant of the session would queue on that one row. An app hook that
writes ``session.vars`` (oTree's usual counter, ``session.vars["n"] = session.vars.get("n",
0) + 1``) has therefore read the session row without its lock, while participants of other
groups may be writing it too. oTree serves one request at a time, so its counter counts
every participant; Grove must too.

Two things keep it so. The session row has a version counter (``row_version``, SQLAlchemy's
``version_id_col``): the UPDATE of a unit of work names the version it read, and when another
unit's change was committed since (PostgreSQL's READ COMMITTED re-checks the row after
waiting for its lock), it updates nothing and SQLAlchemy raises StaleDataError, before
anything is committed. And the flush hook below notes each session row a unit writes
(``db.lock_first_if_run_again``): ``Database.run`` runs the unit again from the start with
those rows locked first (LOCK ORDER 1, FOR NO KEY UPDATE), so the second attempt reads the
last committed vars and cannot be stale. Units that only read session.vars lock nothing and
run once; on SQLite, whose write lock serializes every unit of work, no UPDATE is ever stale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from server.db import lock_first_if_run_again
from server.models.core import ExperimentSession


@event.listens_for(Session, "before_flush")
def _note_session_rows_written(db: Session, _context: Any, _instances: Any) -> None:
    for row in db.dirty:
        if isinstance(row, ExperimentSession) and row.id is not None:
            lock_first_if_run_again(db, ExperimentSession, row.id)
