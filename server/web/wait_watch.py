"""Long polling for wait pages on the push channel, correct with several workers and hosts.

A waiting browser asks ``.../status?wait=1``; the request subscribes to its participant's page
channel (``server.page_channel``) on this worker's push hub, checks the status in the
database, and then sleeps until a message arrives on the channel. The unit of work that
completes the wait page (or moves the participant past it) publishes ``{"type": "check",
"page": n}`` to every member, delivered after its commit, whichever worker or host ran it:
a request waiting on page ``n`` answers ready at once, without reading the database again
(what the message says stays true; the page it then loads checks everything anyway). Any
other message on the channel makes it read the status again. The hub's one watcher per
process (``LISTEN`` on PostgreSQL, the message table every 5 ms on SQLite) is the only poller.

Safety re-checks: the status is read again whenever the hub reports it may have missed
messages (its PostgreSQL connection came back), and every request ends after
``LONG_POLL_SECONDS`` with the last answer, after which the page simply asks again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from server.page_channel import moved_to_url, page_channel, released_page
from server.participant_pages import WaitStatus
from server.push_hub import PushHub

LONG_POLL_SECONDS = 20.0


async def wait_until_ready(
    hub: PushHub,
    participant_code: str,
    page_index: int,
    read_status: Callable[[], WaitStatus],
    timeout: float = LONG_POLL_SECONDS,
) -> WaitStatus | None:
    """Wait until the participant may move on from wait page ``page_index``: a ready
    WaitStatus at the first ``check`` message for that page (with the URL it names, if any:
    the completion moved them there), or the first ready one ``read_status`` (a read, called
    in a thread now and after any other message) returns; None after ``timeout`` seconds.

    Subscribes before the first call of ``read_status``, so a release committed after that
    call wakes it.
    """
    async with hub.subscribed(page_channel(participant_code)) as subscription:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        status = await run_in_threadpool(read_status)
        if status.ready:
            return status
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                message = await asyncio.wait_for(subscription.queue.get(), remaining)
            except TimeoutError:
                return None
            if message is not None and released_page(message.body) == page_index:
                return WaitStatus(True, moved_to_url(message.body, page_index))
            if subscription.queue.empty():
                status = await run_in_threadpool(read_status)
                if status.ready:
                    return status
