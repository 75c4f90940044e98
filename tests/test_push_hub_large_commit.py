"""The push hub's SQLite watcher delivers every message of one large commit at once: a page
command to a whole session (send_page_command takes up to 10 000 participants) is one commit
of one message per participant, more than the watcher reads in one go."""

from __future__ import annotations

import asyncio
import time

import pytest

from server import push, push_hub

# The SQLite watcher's reads (PostgreSQL delivers by NOTIFY, one per message, not by reads).
pytestmark = pytest.mark.sqlite

MESSAGES = 2500  # more than two of the watcher's reads (push.messages_after's limit)
DEADLINE = 10.0


def test_one_commit_larger_than_a_read_is_delivered_without_waiting_for_the_next(app, monkeypatch):
    database = app.state.grove.db
    # The watcher's reads without a change seen come 30 s apart, not 1 s: waiting for them
    # (the fault) takes a minute, the fix well under DEADLINE however busy the machine.
    monkeypatch.setattr(push_hub, "SAFETY_READ_SECONDS", 30.0)

    async def scenario() -> tuple[int, float]:
        # A long poll interval: the watcher reads after a commit, and at least every second.
        hub = push_hub.PushHub(database, 60.0)
        subscription = await hub.subscribe("page:everyone")
        try:
            started = time.monotonic()
            await asyncio.to_thread(
                database.run,
                lambda db: push.publish_many(db, [("page:everyone", "{}")] * MESSAGES),
            )
            received = 0
            while received < MESSAGES:
                remaining = DEADLINE - (time.monotonic() - started)
                try:
                    await asyncio.wait_for(subscription.queue.get(), max(remaining, 0.01))
                except TimeoutError:
                    break
                received += 1
            return received, time.monotonic() - started
        finally:
            hub.unsubscribe(subscription)
            await hub.close()

    received, seconds = asyncio.run(scenario())
    assert received == MESSAGES, (received, seconds)
