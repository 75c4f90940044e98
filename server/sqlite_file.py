"""The SQLite file under a running server: where it may live, whether it is still the file the
server opened, and the cross-process write lock beside it.

An open SQLite connection keeps reading and writing the file it opened, even after that file
is deleted or replaced: every write would be answered as stored and lost with the unlinked
inode. So :class:`FileIdentity` remembers the file's device and inode when the first connection
opens it, and :meth:`Database.transaction <server.db.Database.transaction>` compares them with
the path before and after each unit of work.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

from server.errors import ConfigurationError, DatabaseUnavailable


def check_location(path: Path) -> None:
    """Refuse at start a database file the server could not write.

    SQLite writes the file, and beside it the ``-wal`` and ``-shm`` files and Grove's
    ``.writelock``, so the folder must exist and be writable, and the file, if it exists,
    must be a writable regular file. Raises ConfigurationError naming the path.
    """
    folder = path.parent
    if not folder.is_dir():
        raise ConfigurationError(
            f"DATABASE_URL names the SQLite file {path}, but the folder {folder} does not "
            "exist: create it or point DATABASE_URL elsewhere"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"DATABASE_URL names the SQLite file {path}, but the folder {folder} is not "
            "writable (SQLite creates its -wal and -shm files beside the database): fix its "
            "permissions or point DATABASE_URL elsewhere"
        )
    if path.exists() and (not path.is_file() or not os.access(path, os.R_OK | os.W_OK)):
        raise ConfigurationError(
            f"DATABASE_URL names the SQLite file {path}, but it is not a file this server can "
            "read and write: fix its permissions or point DATABASE_URL elsewhere"
        )


class FileIdentity:
    """The device and inode of the SQLite file the server opened, checked against its path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._opened: tuple[int, int] | None = None

    def record(self) -> None:
        """Remember the file at ``path`` as the database (the first connection calls this)."""
        if self._opened is None:
            stat = os.stat(self.path)
            self._opened = (stat.st_dev, stat.st_ino)

    def check(self) -> None:
        """Raise DatabaseUnavailable if the file was deleted or replaced since it was opened.

        One ``stat`` (about a microsecond); nothing to check before the first connection.
        """
        if self._opened is None:
            return
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise DatabaseUnavailable(
                f"The SQLite database file {self.path} was deleted while the server was "
                "running. Nothing was saved. Restore the file from a backup (or run resetdb) "
                "and restart the server."
            ) from None
        except OSError as exc:
            raise DatabaseUnavailable(
                f"The SQLite database file {self.path} cannot be reached ({exc.strerror}). "
                "Nothing was saved."
            ) from exc
        if (stat.st_dev, stat.st_ino) != self._opened:
            raise DatabaseUnavailable(
                f"The SQLite database file {self.path} was replaced by another file while the "
                "server was running. Nothing was saved. Restart the server to use the new file."
            )


@dataclass
class _Wait:
    """One thread's request to the waiter thread for the file lock."""

    done: threading.Event = field(default_factory=threading.Event)
    guard: threading.Lock = field(default_factory=threading.Lock)
    acquired: bool = False
    abandoned: bool = False


class ProcessWriteLock:
    """An exclusive advisory lock (``flock``) on a file beside the SQLite database, with a
    timeout.

    Callers hold a thread lock first, so one thread per process asks at a time and one file
    descriptor per process is enough. Uncontended, :meth:`acquire` takes the lock at once.
    Otherwise one waiter thread per process blocks in ``flock`` for it, so the kernel wakes it
    the moment the lock is free (SQLite's busy handler sleeps up to 100 ms; polling would
    starve one worker while the other is busy), and the caller waits for the waiter at most
    ``timeout`` seconds. A lock the waiter gets for a caller that gave up is released at once.

    The file also counts the writes done under the lock (:meth:`handovers`: 8 bytes at its
    start, bumped by each holder as it lets go), so a waiter can tell a queue of writers that
    keeps moving from a writer that is stuck.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pid = 0
        self._fd = -1
        self._waits: queue.SimpleQueue[_Wait] = queue.SimpleQueue()
        self._outstanding = 0
        self._state = threading.Lock()
        self._waiter: threading.Thread | None = None

    def acquire(self, timeout: float) -> bool:
        """Take the lock within ``timeout`` seconds; False if another process held it."""
        if self._pid != os.getpid():  # first use, or a forked child: its own descriptor
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            self._state = threading.Lock()
            self._waits = queue.SimpleQueue()
            self._outstanding = 0
            self._waiter = None
        with self._state:
            waiter_idle = self._outstanding == 0
        if waiter_idle:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
        wait = _Wait()
        with self._state:
            self._outstanding += 1
            if self._waiter is None:
                self._waiter = threading.Thread(
                    target=self._wait_for_lock, name="grove-sqlite-lock", daemon=True
                )
                self._waiter.start()
        self._waits.put(wait)
        seen = self.handovers()
        while not wait.done.wait(timeout):
            # Another process held the lock all this time. Wait on while it changes hands
            # (a queue of writers in other workers); give up once nobody let go for `timeout`.
            now = self.handovers()
            if now == seen:
                break
            seen = now
        with wait.guard:
            if wait.acquired:
                return True
            wait.abandoned = True
            return False

    def release(self) -> None:
        """Release the lock taken by :meth:`acquire`, counting one more handover (released
        even when that count cannot be written: a full disk must not keep other workers out)."""
        try:
            self.mark_progress()
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def mark_progress(self) -> None:
        """Count progress as a handover does (by the holder: a long unit of work between
        batches), so waiters in other processes keep waiting."""
        os.pwrite(self._fd, ((self.handovers() + 1) % 2**63).to_bytes(8, "little"), 0)

    def handovers(self) -> int:
        """How many times a process has let go of the lock (for telling progress: any change
        means some writer finished; the number itself means nothing). Needs no lock: a torn
        read only looks like progress once."""
        if self._pid != os.getpid():
            return 0
        return int.from_bytes(os.pread(self._fd, 8, 0), "little")

    def _wait_for_lock(self) -> None:
        while True:
            wait = self._waits.get()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            with wait.guard:
                if wait.abandoned:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                else:
                    wait.acquired = True
            with self._state:
                self._outstanding -= 1
            wait.done.set()
