"""Long-polling for wait pages, correct with several workers.

A waiting browser asks ``.../status?wait=1`` and the answer comes as soon as its wait page is
complete (or after ``LONG_POLL_SECONDS``, when it simply asks again). The truth stays in the
database: one task per worker process, running only while someone waits in that process,
reads the newest wait page completion id (``grove_wait_done``, one indexed lookup) every
``CHECK_INTERVAL`` seconds and wakes its waiters when it changes, whichever worker or host
completed the page. Each woken waiter then re-checks its own status in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from server.db import Database
from server.participant_pages import latest_wait_page_completion

LONG_POLL_SECONDS = 20.0
CHECK_INTERVAL = 0.02


class CompletionWatcher:
    """Wakes this process's waiting requests when any wait page completes anywhere."""

    def __init__(self, db: Database, interval: float = CHECK_INTERVAL) -> None:
        self._db = db
        self._interval = interval
        self._latest: tuple[int, int] | None = None
        self._changed: asyncio.Event | None = None
        self._waiters = 0
        self._task: asyncio.Task[None] | None = None

    def _read_latest(self) -> tuple[int, int]:
        return latest_wait_page_completion(self._db)

    async def _watch(self) -> None:
        try:
            while self._waiters > 0:
                await asyncio.sleep(self._interval)
                latest = await run_in_threadpool(self._read_latest)
                if latest != self._latest:
                    self._latest = latest
                    assert self._changed is not None
                    self._changed.set()
                    self._changed = asyncio.Event()
        finally:
            self._task = None

    async def wait_until_ready(
        self, is_ready: Callable[[], bool], timeout: float = LONG_POLL_SECONDS
    ) -> bool:
        """Call ``is_ready`` (in a thread) now and after every completion, until it is True
        or ``timeout`` seconds have passed; return its last answer."""
        self._waiters += 1
        try:
            if self._task is None:
                # Read the newest id before the first check, so any completion after that
                # check is seen as a change.
                latest = await run_in_threadpool(self._read_latest)
                if self._task is None:  # no other waiter started the watcher meanwhile
                    self._latest = latest
                    self._changed = asyncio.Event()
                    self._task = asyncio.create_task(self._watch())
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                assert self._changed is not None
                changed = self._changed
                if await run_in_threadpool(is_ready):
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
        finally:
            self._waiters -= 1
