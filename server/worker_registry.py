"""Each server process notes itself in ``grove_worker`` every HEARTBEAT_SECONDS (the app's
lifespan calls ``note_worker``), so the admin API's status can say which workers, on which
hosts, were seen recently. Rows of workers gone for FORGET_AFTER_SECONDS are deleted, and so
are old API request counts (``server/rate_limit.py``). No HTTP here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import __version__
from server.db import Database, dialect_insert
from server.errors import GroveError
from server.models.core import stored_utc, utcnow
from server.models.rate_limits import ApiRequestCount
from server.models.workers import WorkerHeartbeat

HEARTBEAT_SECONDS = 30.0
# A worker is "seen recently" when it noted itself within this many seconds.
RECENT_SECONDS = 3 * HEARTBEAT_SECONDS
FORGET_AFTER_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class WorkerIdentity:
    """This process: ``worker_id`` is ``host:pid:random`` (a restarted process is new)."""

    worker_id: str
    host: str
    pid: int

    @classmethod
    def of_this_process(cls) -> WorkerIdentity:
        """A new identity for the running process."""
        host, pid = socket.gethostname(), os.getpid()
        return cls(f"{host}:{pid}:{secrets.token_hex(4)}"[:100], host[:255], pid)


@dataclass(frozen=True)
class WorkerSeen:
    """A worker as the status shows it; times ISO 8601 UTC."""

    worker_id: str
    host: str
    pid: int
    version: str
    started_at: str
    seen_at: str


def _iso(moment: dt.datetime) -> str:
    return stored_utc(moment).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def note_worker(database: Database, worker: WorkerIdentity) -> None:
    """Record that ``worker`` is up now, and forget long-gone workers and old request counts."""
    now = utcnow()

    def work(db: Session) -> None:
        insert = dialect_insert(db, WorkerHeartbeat).values(
            worker_id=worker.worker_id,
            host=worker.host,
            pid=worker.pid,
            version=__version__[:32],
            started_at=now,
            seen_at=now,
        )
        db.execute(
            insert.on_conflict_do_update(index_elements=["worker_id"], set_={"seen_at": now})
        )
        gone = now - dt.timedelta(seconds=FORGET_AFTER_SECONDS)
        db.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < gone))
        old_window = int(now.timestamp()) - 3600
        db.execute(sa.delete(ApiRequestCount).where(ApiRequestCount.window_start < old_window))

    database.run(work)


def forget_worker(database: Database, worker: WorkerIdentity) -> None:
    """Remove ``worker`` (at its shutdown)."""
    database.run(
        lambda db: db.execute(
            sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker.worker_id)
        )
    )


def workers_seen(database: Database, within_seconds: float = RECENT_SECONDS) -> list[WorkerSeen]:
    """The workers that noted themselves within the last ``within_seconds``, by host and
    start."""
    since = utcnow() - dt.timedelta(seconds=within_seconds)
    with database.read() as db:
        rows = db.scalars(
            sa.select(WorkerHeartbeat)
            .where(WorkerHeartbeat.seen_at >= since)
            .order_by(WorkerHeartbeat.host, WorkerHeartbeat.started_at)
        )
        return [
            WorkerSeen(
                row.worker_id,
                row.host,
                row.pid,
                row.version,
                _iso(row.started_at),
                _iso(row.seen_at),
            )
            for row in rows
        ]


async def keep_noting_worker(database: Database, stopping: asyncio.Event) -> None:
    """This process's heartbeat, until ``stopping`` is set: note it every HEARTBEAT_SECONDS
    (a failed note is skipped: the status is best effort), then forget it."""
    worker = WorkerIdentity.of_this_process()
    while True:
        try:
            await asyncio.to_thread(note_worker, database, worker)
        except GroveError as exc:
            logging.getLogger("grove").debug("worker heartbeat not noted: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), HEARTBEAT_SECONDS)
            break
    with contextlib.suppress(GroveError):
        await asyncio.to_thread(forget_worker, database, worker)
