"""A wake-up for the push hubs of every process on a SQLite file, rung after a commit that
published (``server.push``): the hubs read the message table at once instead of at their next
look.

Each listening process (a worker's push hub) binds a Unix datagram socket in the bell's folder
(in the system's temporary folder, named by a hash of the database's path, so the socket's
path fits the 108 bytes a Unix socket's name may have); ringing sends one byte to every socket
there. A socket nobody is bound to any more (a process that died) refuses the byte and is
removed; a full socket was rung already. The bell is only a wake-up: a hub still looks at
``PRAGMA data_version`` now and then (``server.push_hub``), so a ring lost (a commit by a
program that does not ring, a folder that cannot be made) costs time, never a message.

A ring may carry the commit's messages (``ring(database, messages)``: their ids, channels,
bodies and times, as JSON, up to MAX_CARRIED_BYTES), so a hub hands them to its subscribers
without reading the table; the hub decides whether it may (``server.push_hub``: only when the
ids follow on from the last one it saw). A plain ring is one byte; a carried ring the system
refuses as bigger than a socket may send (EMSGSIZE) is sent plain instead. A full socket
drops the ring sent to it, and with it the only word of that commit's messages short of the
table: a listener that took as many rings as its socket holds reports a plain ring after them
(``BellListener.drain``), so its hub reads the table.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import logging
import os
import secrets
import socket
import stat
import tempfile
from pathlib import Path

logger = logging.getLogger("grove.push")

# A message a ring carries: id, channel, JSON body, created_at (epoch seconds).
Carried = tuple[int, str, str, float]
# The most bytes of messages a ring carries; a commit with more rings plainly (a Unix
# datagram socket takes about 200 KB by default on Linux).
MAX_CARRIED_BYTES = 32 * 1024
_PLAIN = b"!"
_CARRYING = b"M"


@functools.lru_cache(maxsize=64)
def bell_folder(database: Path) -> Path:
    """The folder of the bell of the SQLite file ``database`` (worked out once per path and
    process: resolving the path took a dozen system calls, at every commit that published)."""
    digest = hashlib.sha256(str(database.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"grove-bell-{digest}"


def _usable_folder(database: Path) -> Path | None:
    """The bell's folder, made if missing (readable by this user only); None when it cannot
    be made or another user owns it."""
    folder = bell_folder(database)
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        status = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
        return None
    return folder


def _ring_bytes(messages: list[Carried] | None) -> bytes:
    # Bodies and channels alone over the limit: plain, without encoding them all first (a
    # page command to a whole session: thousands of messages, milliseconds of JSON).
    if not messages or sum(len(m[1]) + len(m[2]) for m in messages) > MAX_CARRIED_BYTES:
        return _PLAIN
    carried = _CARRYING + json.dumps(messages, separators=(",", ":")).encode()
    return carried if len(carried) <= MAX_CARRIED_BYTES else _PLAIN


def ring(database: Path, messages: list[Carried] | None = None) -> None:
    """Wake every process listening on ``database``'s bell, carrying ``messages`` (those of
    the commit, in id order; None: unknown, a plain ring) when they fit (from any thread;
    never raises)."""
    data = _ring_bytes(messages)
    folder = bell_folder(database)
    try:
        status = folder.lstat()
        # Another user's folder (made first in the shared temporary folder) is not rung.
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
            return
        entries = list(os.scandir(folder))
    except OSError:
        return
    sender = _sender()
    if sender is None:
        return  # out of file numbers, say: the hubs' next look finds the messages
    try:
        for entry in entries:
            try:
                if not stat.S_ISSOCK(entry.stat(follow_symlinks=False).st_mode):
                    continue  # only the listeners' own sockets, never through a link
                try:
                    try:
                        sender.sendto(data, entry.path)
                    except BlockingIOError:
                        # The listener's queue is full (BellListener.drain says so), or this
                        # sender's buffer is: each ring sent counts against it until its
                        # listener reads it (Linux: about 200 KB, some seven rings near
                        # MAX_CARRIED_BYTES), and the listeners after that would get nothing.
                        # A fresh sender tries again.
                        fresh = _sender()
                        if fresh is None:
                            continue
                        sender.close()
                        sender = fresh
                        sender.sendto(data, entry.path)
                except OSError as exc:
                    if exc.errno != errno.EMSGSIZE or data == _PLAIN:
                        raise
                    # The ring is bigger than this system lets a socket send at all (its send
                    # buffer: a small net.core.wmem_default), for every listener: they all get
                    # a plain ring, and their hubs read the table.
                    data = _PLAIN
                    sender.sendto(data, entry.path)
            except ConnectionRefusedError:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)  # its process is gone
            except OSError:
                pass  # full (its drain says so), removed meanwhile, or not a socket
    finally:
        sender.close()


def _sender() -> socket.socket | None:
    """A non-blocking datagram socket to ring from, or None (out of file numbers, say)."""
    try:
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    except OSError:
        return None
    sender.setblocking(False)
    return sender


class BellListener:
    """This process's socket on a database's bell: readable once the bell rang."""

    def __init__(self, database: Path) -> None:
        """Raises OSError when the bell's folder or socket cannot be made."""
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self.socket.setblocking(False)
            for attempt in range(2):
                folder = _usable_folder(database)
                if folder is None:
                    raise OSError(f"no usable bell folder for {database}")
                self.path = folder / f"{os.getpid()}-{secrets.token_hex(4)}"
                try:
                    self.socket.bind(str(self.path))
                    break
                except FileNotFoundError:
                    if attempt:  # the last listener removed the folder meanwhile, twice
                        raise
        except OSError:
            self.socket.close()
            raise
        # The rings the socket holds; fixed when it is made, as the system's limit was then.
        self.capacity = _queue_capacity()

    def fileno(self) -> int:
        """The socket's file number, for the event loop's ``add_reader``."""
        return self.socket.fileno()

    def drain(self) -> list[list[Carried] | None]:
        """Take every ring that arrived (so the socket is quiet until the next), oldest
        first: the messages each carried, or None for a plain ring (or one unreadable). Ends
        with a None when the socket may have been full meanwhile: a ring sent then was
        dropped, and its commit's messages are known only to the table."""
        rings: list[list[Carried] | None] = []
        with contextlib.suppress(OSError):
            while data := self.socket.recv(MAX_CARRIED_BYTES + 64):
                rings.append(_carried(data))
        if rings and (self.capacity is None or len(rings) >= self.capacity):
            rings.append(None)
        return rings

    def close(self) -> None:
        """Close the socket and remove its name, and the folder if it was the last."""
        self.socket.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()  # fails while another listener is in it


def _queue_capacity() -> int | None:
    """How many datagrams a new Unix datagram socket holds before one sent to it is refused
    (Linux: ``net.unix.max_dgram_qlen`` + 1, 11 by default); None where that is not known
    (elsewhere the limit is in bytes: every drain then counts as perhaps incomplete)."""
    try:
        return int(Path("/proc/sys/net/unix/max_dgram_qlen").read_text()) + 1
    except (OSError, ValueError):
        return None


def _carried(data: bytes) -> list[Carried] | None:
    """The messages a ring's bytes carry, or None (a plain ring, or bytes not understood)."""
    if not data.startswith(_CARRYING):
        return None
    try:
        rows = json.loads(data[1:])
        return [(int(i), str(c), str(b), float(t)) for i, c, b, t in rows]
    except (ValueError, TypeError):
        return None
