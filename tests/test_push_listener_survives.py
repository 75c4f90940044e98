"""The push hub's PostgreSQL listener outlives a failure while it handles a notification (a
message too large to come inline whose row cannot be read at that moment: the pool timed out,
the database blinked): it reconnects, tells its subscribers they may have missed something
(None in their queue), and delivers what comes next. Before, the failure ended the listener
task: every open page of the worker stopped getting messages, with nothing logged."""

from __future__ import annotations

import asyncio

import pytest

from server import push
from server.db import Database
from server.models.push import LiveReceipt, PushMessage
from server.push_hub import PushHub
from tests import databases


@pytest.mark.slow
@pytest.mark.postgres
def test_a_failed_read_of_a_large_message_does_not_end_the_listener(tmp_path, monkeypatch):
    database = Database(databases.database_url(tmp_path, "listener", databases.POSTGRESQL))
    PushMessage.__table__.create(database.engine)
    LiveReceipt.__table__.create(database.engine)
    monkeypatch.setattr("server.push_hub.RECONNECT_SECONDS", 0.05)

    async def scenario() -> list:
        hub = PushHub(database, 60.0)
        failures = []

        def failing_read(ids):
            failures.append(ids)
            raise RuntimeError("the pool timed out")

        monkeypatch.setattr(hub, "_read_ids", failing_read)
        subscription = await hub.subscribe("page:a")
        try:
            large = '"' + "x" * (push.NOTIFY_INLINE_LIMIT + 10) + '"'
            await asyncio.to_thread(database.run, lambda db: push.publish(db, "page:a", large))
            await asyncio.sleep(0.5)
            await asyncio.to_thread(database.run, lambda db: push.publish(db, "page:a", '"next"'))
            received = []
            while not received or received[-1] is None:
                item = await asyncio.wait_for(subscription.queue.get(), 10)
                received.append(item if item is None else item.body)
            assert failures
            return received
        finally:
            hub.unsubscribe(subscription)
            await hub.close()

    try:
        assert asyncio.run(scenario()) == [None, '"next"']
    finally:
        database.dispose()
