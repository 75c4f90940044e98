"""A REDCap-style rate limit on the APIs: each key may make at most N requests per minute;
one more is refused with RateLimited (HTTP 429 with ``Retry-After``: the seconds until the
next minute starts). N is ``Settings.api_rate_limit_per_minute`` (GROVE_API_RATE_LIMIT; 0,
the development server's default, turns it off; production's default is 600).

The count is shared through the database (``grove_api_request_count``: one row per key and
minute), so a key gets N requests per minute in all, whichever workers and hosts serve them,
not N per worker. Each request takes a number in its key's minute, and only the first N
numbers are served. A worker takes numbers from the row in blocks (one upsert adds the
block's size and answers the new count), so a busy key does not cost a write transaction per
request: on SQLite every write of every worker queues on one lock, and a count written per
request took half of that lock's time from the API calls it counted. A block is one number
while a key is quiet and grows (doubling, up to MAX_BLOCK and to a sixteenth of what is left
of the minute) only while the worker uses its numbers up quickly (a block within
QUICK_SECONDS); it keeps its size while the key stays busy (a block within STEADY_SECONDS)
and is one number again after a block that lasted longer. So the numbers a worker holds
unused at the end of a minute, which no other worker can serve, stay few: at most about what
it served in the last STEADY_SECONDS. Once a worker
has seen its key's minute full it refuses that key's requests until the next minute without
writing: a client hammering past its limit does not take the write lock from participants.
A request served from the numbers a worker holds needs no thread (``count_api_request_at_once``,
for the event loop); only taking a block does.
Old minutes are deleted by the worker heartbeat (``server/worker_registry.py``). No HTTP here.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.db import Database, dialect_insert
from server.errors import RateLimited
from server.models.rate_limits import ApiRequestCount

WINDOW_SECONDS = 60
# The most numbers a worker takes in one write; how quickly a block must be used up for the
# next one to be twice as large, and for it to be as large (else it is one number).
# Before STEADY_SECONDS a busy key's blocks fell back to one number as soon as one lasted
# longer than QUICK_SECONDS: at 150 requests a second a worker wrote once per 28 requests.
MAX_BLOCK = 256
QUICK_SECONDS = 0.25
STEADY_SECONDS = 1.0


@dataclass
class _Numbers:
    """The numbers one worker holds in one key's minute: ``next`` up to ``last`` unused."""

    window: int
    next: int = 1
    last: int = 0
    block: int = 1
    taken_at: float = 0.0
    full: bool = False


class _KeyCounts:
    """One process's numbers per key, for the current minute only, each key's behind a lock
    of its own (a block is taken while it is held)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window = 0
        self.keys: dict[str, _Numbers] = {}
        self.key_locks: dict[str, threading.Lock] = {}


@contextmanager
def _key_lock(counts: _KeyCounts, key_user: str, window: int) -> Iterator[_Numbers]:
    """Hold ``key_user``'s lock; its numbers in ``window``. Keys of past minutes are dropped
    when a minute begins (unless a request holds them: one that was about to take a dropped
    lock takes the new one instead)."""
    while True:
        with counts.lock:
            if window > counts.window:
                counts.window = window
                for old in [k for k, n in counts.keys.items() if n.window < window]:
                    lock = counts.key_locks.get(old)
                    if lock is None or not lock.locked():
                        counts.keys.pop(old, None)
                        counts.key_locks.pop(old, None)
            key_lock = counts.key_locks.setdefault(key_user, threading.Lock())
        with key_lock:
            if counts.key_locks.get(key_user) is not key_lock:
                continue
            numbers = counts.keys.get(key_user)
            if numbers is None or numbers.window < window:
                numbers = counts.keys[key_user] = _Numbers(window)
            elif numbers.window > window:
                numbers = _Numbers(window)  # a caller's clock behind the others': apart
            yield numbers
            return


_COUNTS: weakref.WeakKeyDictionary[Database, _KeyCounts] = weakref.WeakKeyDictionary()
_COUNTS_LOCK = threading.Lock()


def _counts_of(database: Database) -> _KeyCounts:
    with _COUNTS_LOCK:
        counts = _COUNTS.get(database)
        if counts is None:
            counts = _COUNTS[database] = _KeyCounts()
        return counts


def _take_block(database: Database, key_user: str, window: int, size: int) -> int:
    """Add ``size`` to the key's minute in the database; the new count (the block's last)."""

    def work(db: Session) -> int:
        insert = dialect_insert(db, ApiRequestCount).values(
            key_user=key_user, window_start=window, count=size
        )
        upsert = insert.on_conflict_do_update(
            index_elements=["key_user", "window_start"],
            set_={"count": ApiRequestCount.count + size},
        ).returning(ApiRequestCount.count)
        return int(db.execute(upsert).scalar_one())

    return database.run(work)


def _window_of(moment: float) -> int:
    return int(moment // WINDOW_SECONDS) * WINDOW_SECONDS


def _next_number(numbers: _Numbers, limit_per_minute: int) -> int:
    """Serve the next number the worker holds (past the limit: the minute is full)."""
    number = numbers.next
    numbers.next += 1
    if number > limit_per_minute:
        numbers.full = True
    return number


def _refuse_past_limit(number: int, limit_per_minute: int, window: int, moment: float) -> None:
    if number > limit_per_minute:
        retry_after = max(1, int(window + WINDOW_SECONDS - moment + 0.999))
        raise RateLimited(
            f"too many requests: this key may make {limit_per_minute} API requests a minute; "
            f"try again in {retry_after} s",
            retry_after_seconds=retry_after,
        )


def count_api_request(
    database: Database, key_user: str, limit_per_minute: int, now: float | None = None
) -> int:
    """Count one request of ``key_user`` (a key's user) in the current minute; return its
    number in the minute (across every worker). Raises RateLimited when that passes
    ``limit_per_minute``; once a worker has seen the minute full, without a write."""
    moment = time.time() if now is None else now
    window = _window_of(moment)
    key_user = key_user[:255]
    counts = _counts_of(database)
    with _key_lock(counts, key_user, window) as numbers:
        if not numbers.full and numbers.next > numbers.last:
            clock = time.monotonic()
            lasted = clock - numbers.taken_at
            if not numbers.last or lasted >= STEADY_SECONDS:
                numbers.block = 1
            elif lasted < QUICK_SECONDS:
                numbers.block = min(MAX_BLOCK, numbers.block * 2)
            size = max(1, min(numbers.block, (limit_per_minute - numbers.last) // 16))
            last = _take_block(database, key_user, window, size)
            numbers.next, numbers.last, numbers.taken_at = last - size + 1, last, clock
        number = _next_number(numbers, limit_per_minute)
    _refuse_past_limit(number, limit_per_minute, window, moment)
    return number


def count_api_request_at_once(
    database: Database, key_user: str, limit_per_minute: int, now: float | None = None
) -> int | None:
    """:func:`count_api_request` when it needs neither the database nor a wait: the worker
    holds an unused number of the key's current minute (or has seen the minute full) and no
    other thread is using the key's numbers. Else None, and nothing was counted: the caller
    counts with :func:`count_api_request` (in a thread, as it may write). For the event
    loop, which must never wait for a lock held across a database write. Raises
    RateLimited as :func:`count_api_request` does."""
    moment = time.time() if now is None else now
    window = _window_of(moment)
    key_user = key_user[:255]
    counts = _counts_of(database)
    with counts.lock:  # never held across a wait
        key_lock = counts.key_locks.get(key_user)
        if window != counts.window or key_lock is None or not key_lock.acquire(blocking=False):
            return None
    # Held, this lock is the key's current one: a lock is dropped only while nobody holds it.
    try:
        numbers = counts.keys.get(key_user)
        if numbers is None or numbers.window != window:
            return None
        if not numbers.full and numbers.next > numbers.last:
            return None
        number = _next_number(numbers, limit_per_minute)
    finally:
        key_lock.release()
    _refuse_past_limit(number, limit_per_minute, window, moment)
    return number
