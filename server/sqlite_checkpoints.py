"""WAL checkpoints of a SQLite file, taken off the write path by a thread of their own.

SQLite copies the write-ahead log back into the database file (a checkpoint) by itself, in the
connection whose COMMIT made the log pass ``wal_autocheckpoint`` pages (1,000 by default): that
COMMIT then returns only after the copy and, with ``synchronous=FULL``, an fsync of the
database file. Grove commits while holding its write lock (server/db.py, GROUP COMMIT), so every
writer of the process waited for that checkpoint: under a steady 100 live messages a second the
log filled every two seconds and each checkpoint held all writes for 0.1 to 0.4 s, the live round
trip's p99 (bench/README.md, metric 7).

So Grove's connections set ``wal_autocheckpoint = 0``, and :class:`WalCheckpointer` (one per
database file and process) runs a PASSIVE checkpoint on its own connection, in a daemon thread,
every CHECK_SECONDS in which this process committed something (``note_commit``): PASSIVE takes
no write lock (writers go on appending to the log meanwhile) and waits for no reader, and SQLite
starts the log over at the next write once a checkpoint has copied all of it. Several processes
on one file each run one; SQLite lets one checkpoint run at a time (the others answer busy and
copy the rest next time). Source: SQLite's documentation, "Write-Ahead Logging",
sections 3-5 (checkpointing, automatic checkpoints, "Avoiding Excessively Large WAL Files").
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

# At most one checkpoint this often: a second of writes (at 100 live messages a second, about
# 500 pages) is copied at once, in the background.
CHECK_SECONDS = 1.0

logger = logging.getLogger("grove.db")


class WalCheckpointer:
    """Checkpoints the SQLite file ``path`` in a daemon thread (see the module's docstring),
    from :meth:`start` until :meth:`stop`. Failures are logged and tried again."""

    def __init__(self, path: Path, busy_timeout_ms: int) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.checkpoints = 0
        self._committed = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread unless it runs (called at each new connection of the file)."""
        with self._lock:
            if self._thread is not None:
                return
            stopping = self._stopping = threading.Event()
            self._thread = threading.Thread(
                target=self._run,
                args=(stopping,),
                name=f"grove-checkpoints:{self.path.name}",
                daemon=True,
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (a checkpoint under way finishes first); the next
        connection starts it again."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
        if thread is not None:
            thread.join()

    def note_commit(self) -> None:
        """A transaction of this process committed: the next look checkpoints."""
        self._committed = True

    def checkpoint_if_due(self, connection: sqlite3.Connection) -> bool:
        """A PASSIVE checkpoint if this process committed since the last; whether one ran."""
        if not self._committed:
            return False
        self._committed = False
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1
        return True

    def _run(self, stopping: threading.Event) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not stopping.wait(CHECK_SECONDS):
                try:
                    if connection is None:
                        connection = sqlite3.connect(self.path, isolation_level=None)
                        connection.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
                    self.checkpoint_if_due(connection)
                except sqlite3.Error as error:
                    logger.warning("a WAL checkpoint of %s failed (%s)", self.path, error)
                    if connection is not None:
                        connection.close()
                        connection = None
        finally:
            if connection is not None:
                connection.close()
