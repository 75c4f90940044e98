"""Has anyone committed to the SQLite file? ``PRAGMA data_version`` on a connection of its own.

SQLite changes a connection's ``data_version`` whenever another connection (of this process or
any other) commits to the database, and the pragma reads only the WAL index in shared memory:
microseconds, no table, no lock waited for. The push hub's SQLite watcher asks it every few
milliseconds on the event loop and reads the message table only after a change, so a worker
with open pages and nothing happening does not read the database 200 times a second.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class CommitWatch:
    """Tells whether the database at ``path`` changed since the last call of ``changed``."""

    def __init__(self, path: Path) -> None:
        # timeout=0: never wait for a lock; check_same_thread: used by the event loop's thread.
        self._connection = sqlite3.connect(path, timeout=0, isolation_level=None)
        self._version: int | None = None
        self.changed()

    def changed(self) -> bool:
        """True when another connection committed since the last call (and whenever the
        pragma cannot be read: the caller then reads the database to be sure)."""
        try:
            row = self._connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return True
        version = int(row[0])
        changed = version != self._version
        self._version = version
        return changed

    def close(self) -> None:
        """Close its connection."""
        self._connection.close()
