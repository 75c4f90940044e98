"""Finding a participant of a session by their label: the one query every way in uses (a room's
arrival, a join link with participant_label, vars posted for a label, the urn's draw by label,
the admin API's players/fields/). A label names at most one participant of a session (a
unique index). Depends on the models only, so any domain module may import it. No HTTP here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models.core import Participant


def participant_with_label(
    db: Session, session_id: int, label: str, *, for_update: bool = False
) -> Participant | None:
    """The participant of session ``session_id`` labelled ``label``, or None.

    ``for_update`` locks the row and reads it afresh (as ``sessions.get_session`` does): on
    PostgreSQL an object loaded earlier would otherwise keep its values from before the lock.
    """
    query = sa.select(Participant).where(
        Participant.session_id == session_id, Participant.label == label
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.scalars(query).first()
