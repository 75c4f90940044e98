"""The push hub's SQLite watcher reads new messages on threads of its own: when every thread
that runs requests is taken (each live message waiting for the write lock), deliveries do
not wait for one of them to come free."""

from __future__ import annotations

import asyncio
import threading

import anyio.to_thread
import pytest

from server import push
from server.push_hub import PushHub

# The SQLite watcher's reads (PostgreSQL delivers by NOTIFY without a read).
pytestmark = pytest.mark.sqlite


def test_a_message_is_delivered_while_every_request_thread_is_busy(app):
    database = app.state.grove.db

    async def scenario() -> bool:
        hub = PushHub(database, 60.0)
        subscription = await hub.subscribe("page:one")
        release = threading.Event()
        limiter = anyio.to_thread.current_default_thread_limiter()
        busy = [
            asyncio.create_task(anyio.to_thread.run_sync(release.wait))
            for _ in range(int(limiter.total_tokens))
        ]
        try:
            while limiter.available_tokens:
                await asyncio.sleep(0.01)
            await asyncio.to_thread(
                database.run, lambda db: push.publish_many(db, [("page:one", "{}")])
            )
            try:
                await asyncio.wait_for(subscription.queue.get(), 3.0)
            except TimeoutError:
                return False
            return True
        finally:
            release.set()
            await asyncio.gather(*busy)
            hub.unsubscribe(subscription)
            await hub.close()

    # Before: the watcher's read waited for a request thread (here for good, as long as the
    # busy ones are held).
    assert asyncio.run(scenario())
