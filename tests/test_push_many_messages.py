"""One unit of work may publish more messages than PostgreSQL takes notifications in one
SELECT (its target list holds at most 1664 entries): a live answer to a group of 2000
({0: data}) is stored and reaches every worker's listener; so does a page command to a whole
session, which publishes all its messages in one INSERT."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa

from server import push
from server.db import Database
from server.models.push import PushMessage
from server.page_commands import ReloadCommand, send_page_command
from server.push_hub import PushHub
from tests import databases
from tests.databases import BOTH

MESSAGES = 2000


@pytest.mark.parametrize("backend", BOTH)
def test_a_unit_of_work_publishes_two_thousand_messages_and_every_one_arrives(tmp_path, backend):
    database = Database(databases.database_url(tmp_path, "many", backend))
    PushMessage.__table__.create(database.engine)
    channels = [f"page:p{number}" for number in range(MESSAGES)]

    async def scenario() -> int:
        hub = PushHub(database, 60.0)
        subscriptions = [await hub.subscribe(channel) for channel in channels]
        try:
            await asyncio.to_thread(
                database.run, lambda db: push.publish_many(db, [(c, "{}") for c in channels])
            )
            await asyncio.to_thread(
                database.run,
                lambda db: send_page_command(db, [c[5:] for c in channels], ReloadCommand()),
            )
            received = 0
            for subscription in subscriptions:
                for _ in range(2):
                    await asyncio.wait_for(subscription.queue.get(), 10)
                    received += 1
            return received
        finally:
            for subscription in subscriptions:
                hub.unsubscribe(subscription)
            await hub.close()

    try:
        assert asyncio.run(scenario()) == 2 * MESSAGES
        with database.read() as db:
            bodies = db.scalars(sa.select(PushMessage.body).order_by(PushMessage.id)).all()
        assert bodies[:MESSAGES] == ["{}"] * MESSAGES
        assert [json.loads(b) for b in bodies[MESSAGES:]] == [
            {"type": "command", "command": "reload"}
        ] * MESSAGES
    finally:
        database.dispose()
