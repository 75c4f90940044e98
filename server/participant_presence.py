"""When each participant was last seen: ``grove_participant.last_seen``, in the database, so
every worker on every host answers "who is online" alike.

A participant is seen when their browser asks for one of their URLs: a page (GET or POST), a
wait page's status poll, the chat, the live page's socket (``server/http/participant_presence.py``
notes it). To keep that from writing on every request, a worker writes a participant's time
at most once per SEEN_REFRESH_SECONDS, and only reads when another worker wrote it within
that time (or the code is nobody's). "Online" is seen within the last N seconds (more than
SEEN_REFRESH_SECONDS, or someone active would flicker). No HTTP here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from server.db import Database
from server.models.core import Participant, stored_utc, utcnow
from server.sessions import get_session

SEEN_REFRESH_SECONDS = 10
DEFAULT_ONLINE_SECONDS = 60


def note_seen(
    database: Database, code: str, now: dt.datetime | None = None, *, known_due: bool = False
) -> None:
    """Record that participant ``code`` was seen ``now`` (unless it was recorded less than
    SEEN_REFRESH_SECONDS before). An unknown code changes nothing.

    A read decides first, so only a due write opens a write transaction: an unknown code (a
    live socket is noted before its code is checked) or a time another worker has just
    written costs no write lock, which on SQLite every page submission queues on.
    ``known_due``: the request's own read of the participant found the write due
    (``seen_is_due``), so that read is not made again."""
    moment = now or utcnow()
    stale = moment - dt.timedelta(seconds=SEEN_REFRESH_SECONDS)
    due = sa.and_(
        Participant.code == code,
        sa.or_(Participant.last_seen.is_(None), Participant.last_seen < stale),
    )
    if not known_due:
        with database.read() as db:
            if db.scalar(sa.select(Participant.id).where(due)) is None:
                return
    # Checked again in the UPDATE: another worker may have written it meanwhile.
    database.run(lambda db: db.execute(sa.update(Participant).where(due).values(last_seen=moment)))


def note_seen_in_unit(participant: Participant, now: dt.datetime | None = None) -> None:
    """note_seen inside a unit of work that holds the participant's row (a page submission):
    its time is written with the unit's own UPDATE of the row, not in a write of its own."""
    moment = now or utcnow()
    if seen_is_due(participant.last_seen, moment):
        participant.last_seen = moment


def seen_is_due(last_seen: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Whether a participant last seen at ``last_seen`` (as read from their row; None if
    never) is to be noted again ``now``: not within the last SEEN_REFRESH_SECONDS."""
    if last_seen is None:
        return True
    return stored_utc(last_seen) < (now or utcnow()) - dt.timedelta(seconds=SEEN_REFRESH_SECONDS)


@dataclass(frozen=True)
class Presence:
    """A participant's last sighting: ``seconds_since_seen`` whole seconds, None if never."""

    code: str
    label: str | None
    last_seen: dt.datetime | None
    seconds_since_seen: int | None
    online: bool


def session_presence(
    database: Database, session_code: str, within_seconds: float = DEFAULT_ONLINE_SECONDS
) -> list[Presence]:
    """Each participant of the session (by ``id_in_session``), online if seen within the last
    ``within_seconds``. One read. Raises SessionNotFound."""
    now = utcnow()
    with database.read() as db:
        session = get_session(db, session_code)
        rows = db.execute(
            sa.select(Participant.code, Participant.label, Participant.last_seen)
            .where(Participant.session_id == session.id)
            .order_by(Participant.id_in_session)
        ).all()
    found = []
    for code, label, last_seen in rows:
        last_seen = stored_utc(last_seen)
        seconds = None if last_seen is None else max(0, int((now - last_seen).total_seconds()))
        online = seconds is not None and seconds <= within_seconds
        found.append(Presence(code, label, last_seen, seconds, online))
    return found
