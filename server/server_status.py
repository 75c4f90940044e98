"""What the server is: version, database kind and size, migrations pending, the workers seen
recently (``server/worker_registry.py``).

A plain read for the admin API's ``status/`` and anyone else who asks; no HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from server import __version__
from server.db import Database
from server.schema_versions import version_state
from server.worker_registry import WorkerSeen, workers_seen


@dataclass(frozen=True)
class ServerStatus:
    """``database_size_bytes`` is None when the database does not say (an in-memory SQLite);
    ``migrations_pending`` is True while the database is behind this Grove's newest revision
    (``python -m server migrate`` brings it up); ``workers`` noted themselves within the
    last few heartbeats, on any host sharing the database."""

    version: str
    database: str
    database_size_bytes: int | None
    schema_revision: str | None
    schema_head: str
    migrations_pending: bool
    workers: list[WorkerSeen]


def database_size_bytes(db: Database) -> int | None:
    """The database's size on disk in bytes: SQLite's file (with its WAL), PostgreSQL's
    ``pg_database_size``; None for an in-memory database."""
    if db.is_sqlite:
        if db.sqlite_path is None or not db.sqlite_path.exists():
            return None
        wal = db.sqlite_path.with_name(db.sqlite_path.name + "-wal")
        return db.sqlite_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    with db.read() as session:
        size = session.scalar(sa.text("SELECT pg_database_size(current_database())"))
    return int(size) if size is not None else None


def server_status(db: Database) -> ServerStatus:
    """The server's status (one read of the database)."""
    with db.read() as session:
        state = version_state(session.connection())
    return ServerStatus(
        version=__version__,
        database="sqlite" if db.is_sqlite else "postgresql",
        database_size_bytes=database_size_bytes(db),
        schema_revision=state.current,
        schema_head=state.head,
        migrations_pending=state.kind in ("behind", "unversioned"),
        workers=workers_seen(db),
    )
