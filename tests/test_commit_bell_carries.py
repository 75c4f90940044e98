"""The commit bell carries its commit's push messages (server.commit_bell), so a SQLite
worker's hub hands them to its subscribers without reading the message table; only messages
that really committed, and the table is read whenever the ids do not follow on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from server import commit_bell, push
from server import db as db_module
from server.db import Database
from server.push_hub import PushHub

pytestmark = pytest.mark.sqlite

SLOW_LOOK = 30.0  # the hub's looks at data_version: never, within a test


async def _received(hub: PushHub, channel: str, work: Callable[[], None], count: int) -> list[str]:
    """Bodies of the first ``count`` messages on ``channel`` after ``work`` ran in a thread."""
    subscription = await hub.subscribe(channel)
    try:
        await asyncio.to_thread(work)
        bodies = []
        for _ in range(count):
            message = await asyncio.wait_for(subscription.queue.get(), 10)
            assert message is not None
            bodies.append(message.body)
        return bodies
    finally:
        hub.unsubscribe(subscription)
        await hub.close()


def _delivered(
    app, settings, channel: str, steps: Callable[[Database], None], count: int, hub=None
) -> list[str]:
    """Bodies of the first ``count`` messages a hub of ``app`` delivers on ``channel`` while
    ``steps`` run on another worker's connection to the file."""
    other = Database(settings.database_url)
    hub = hub or PushHub(app.state.grove.db, 60.0, poll_interval=SLOW_LOOK)
    try:
        return asyncio.run(_received(hub, channel, lambda: steps(other), count))
    finally:
        other.dispose()


def _noted_rings(monkeypatch) -> tuple[list[list[commit_bell.Carried] | None], dict[str, bool]]:
    """The rings sent from now on (what each carried), and a switch that silences them."""
    rings: list[list[commit_bell.Carried] | None] = []
    ringing = {"on": True}
    real_ring = commit_bell.ring

    def noted_ring(path, messages=None) -> None:
        rings.append(messages)
        if ringing["on"]:
            real_ring(path, messages)

    monkeypatch.setattr(db_module.commit_bell, "ring", noted_ring)
    return rings, ringing


def test_a_hub_delivers_what_the_ring_carries_without_reading_the_table(app, settings):
    hub = PushHub(app.state.grove.db, 60.0, poll_interval=SLOW_LOOK)
    hub._read_after = lambda last: []  # type: ignore[method-assign]  # the table: no help

    def publish_two(other: Database) -> None:
        other.run(lambda db: push.publish_many(db, [("page:a", '"one"'), ("page:a", '"two"')]))

    assert _delivered(app, settings, "page:a", publish_two, 2, hub) == ['"one"', '"two"']


def test_a_message_of_a_savepoint_rolled_back_is_not_carried_nor_delivered(
    app, settings, monkeypatch
):
    """The rolled-back message's id is given to the next message of the transaction: a ring
    carrying both would deliver the phantom, and the hub would then skip the real one."""
    rings, _ringing = _noted_rings(monkeypatch)

    def unit(db: Session) -> None:
        try:
            with db.begin_nested():
                push.publish(db, "page:b", '"phantom"')
                raise RuntimeError("undone")
        except RuntimeError:
            pass
        push.publish(db, "page:b", '"real"')

    def steps(other: Database) -> None:
        other.run(unit)
        other.run(lambda db: push.publish(db, "page:b", '"after"'))

    assert _delivered(app, settings, "page:b", steps, 2) == ['"real"', '"after"']
    assert [[body for _id, _channel, body, _at in messages or ()] for messages in rings] == [
        ['"real"'],
        ['"after"'],
    ]


def test_a_message_whose_commit_did_not_ring_is_read_from_the_table_in_order(
    app, settings, monkeypatch
):
    _rings, ringing = _noted_rings(monkeypatch)

    def steps(other: Database) -> None:
        ringing["on"] = False
        other.run(lambda db: push.publish(db, "page:c", '"unrung"'))
        ringing["on"] = True
        other.run(lambda db: push.publish(db, "page:c", '"rung"'))

    # The second ring's message does not follow on from the last id the hub saw: it reads.
    assert _delivered(app, settings, "page:c", steps, 2) == ['"unrung"', '"rung"']


def test_a_plain_ring_after_a_carried_one_is_read_at_once(app, settings, monkeypatch):
    """The hub takes a carrying ring's commit as the change data_version saw; a commit that
    landed before the hub got to that ring is counted in it too. Its own ring, when it comes
    plain (its messages over MAX_CARRIED_BYTES: a page command to a whole session), must
    still make the hub read the table, not wait for the next look (here: never)."""
    database = app.state.grove.db
    other = Database(settings.database_url)
    real_ring = commit_bell.ring
    held: list[tuple[object, list[commit_bell.Carried] | None]] = []
    monkeypatch.setattr(
        db_module.commit_bell, "ring", lambda path, messages=None: held.append((path, messages))
    )
    large = '"' + "x" * commit_bell.MAX_CARRIED_BYTES + '"'

    async def scenario() -> list[str]:
        hub = PushHub(database, 60.0, poll_interval=SLOW_LOOK)
        subscription = await hub.subscribe("page:d")
        try:
            await asyncio.to_thread(other.run, lambda db: push.publish(db, "page:d", '"small"'))
            await asyncio.to_thread(other.run, lambda db: push.publish(db, "page:d", large))
            (first_path, first), (second_path, second) = held
            assert first is not None
            assert second is not None  # known, but too large to carry
            real_ring(first_path, first)  # the hub gets to it after both commits
            bodies = [(await asyncio.wait_for(subscription.queue.get(), 10)).body]
            real_ring(second_path, second)  # too large to carry: a plain ring
            bodies.append((await asyncio.wait_for(subscription.queue.get(), 3)).body)
            return bodies
        finally:
            hub.unsubscribe(subscription)
            await hub.close()

    try:
        bodies = asyncio.run(scenario())
    finally:
        other.dispose()
    assert bodies == ['"small"', large]


def test_a_ring_dropped_by_a_full_socket_does_not_hold_its_messages_back(app, settings):
    """A listener's socket queues a few rings (Linux: net.unix.max_dgram_qlen + 1, 11 by
    default); a ring sent to a full one is dropped. A burst of commits while the hub is busy
    fills it: the hub, having taken every ring it got, must still read what the dropped
    ring's commit stored, not wait for the next look (here: never)."""
    database = app.state.grove.db
    other = Database(settings.database_url)
    # More commits than the socket holds, quickly (well within the hub's 1 s safety read).
    burst = 15

    async def scenario() -> list[str]:
        hub = PushHub(database, 60.0, poll_interval=SLOW_LOOK)
        subscription = await hub.subscribe("page:e")
        try:
            for number in range(burst):  # the hub's loop is held up meanwhile
                other.run(lambda db, n=number: push.publish(db, "page:e", f'"{n}"'))
            return [
                (await asyncio.wait_for(subscription.queue.get(), 3)).body for _ in range(burst)
            ]
        finally:
            hub.unsubscribe(subscription)
            await hub.close()

    try:
        bodies = asyncio.run(scenario())
    finally:
        other.dispose()
    assert bodies == [f'"{n}"' for n in range(burst)]


def test_every_worker_gets_the_ring_of_a_commit_that_carries_much(app, settings):
    """One sender rings every worker's socket, and each ring it sent counts against its send
    buffer until that worker reads it (Linux: about 200 KB by default, so some seven rings
    near MAX_CARRIED_BYTES): the workers rung after that got nothing at all, and their hubs
    held the commit's messages back until their next look (here: never)."""
    database = app.state.grove.db
    other = Database(settings.database_url)
    sqlite_path = database.sqlite_path
    assert sqlite_path is not None
    # A commit near the most a ring carries: 8 messages of 3.5 KB, say a page's state sent
    # to each member of a group of 8.
    bodies = [f'"{n}{"x" * 3500}"' for n in range(8)]
    workers = 15  # other workers' listeners (more than the buffer takes such rings)

    got, rings = _published_with_listeners(database, other, bodies, workers)
    assert got == bodies
    # Each worker's listener got one ring, carrying the commit's messages.
    carried = [
        [row[2] for row in ring[0]] == bodies if ring and ring[0] else None for ring in rings
    ]
    assert carried == [True] * workers


def test_every_worker_is_rung_where_a_carried_ring_exceeds_the_send_buffer(
    app, settings, monkeypatch
):
    """A Unix datagram bigger than the sender's send buffer is refused outright (EMSGSIZE),
    whatever the listeners hold: on a system whose sockets' buffer is under the carried ring
    (a small net.core.wmem_default; here the sender's SO_SNDBUF), no worker was rung at all,
    and their hubs held the commit's messages until their next look (here: never). A plain
    ring, one byte, always fits: the hubs then read the table."""
    real_sender = commit_bell._sender

    def small_sender() -> socket.socket | None:
        sender = real_sender()
        if sender is not None:
            sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # Linux doubles it
        return sender

    monkeypatch.setattr(commit_bell, "_sender", small_sender)
    database = app.state.grove.db
    other = Database(settings.database_url)
    sqlite_path = database.sqlite_path
    assert sqlite_path is not None
    # About 14 KB of messages: under MAX_CARRIED_BYTES, over the buffer.
    bodies = [f'"{n}{"x" * 3500}"' for n in range(4)]
    ring = commit_bell._ring_bytes([(n, "page:f", b, 0.0) for n, b in enumerate(bodies)])
    probe = small_sender()
    assert probe is not None
    with probe:
        assert len(ring) > probe.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)

    got, rings = _published_with_listeners(database, other, bodies, 3)
    assert got == bodies
    assert rings == [[None]] * 3  # each worker's listener got a plain ring


def _published_with_listeners(
    database: Database, other: Database, bodies: list[str], workers: int
) -> tuple[list[str], list[list[list[commit_bell.Carried] | None]]]:
    """``other`` publishes ``bodies`` on one channel while a hub of ``database`` that never
    looks by itself holds it and ``workers`` other workers' listeners wait: the bodies the
    hub got, and what each listener drained. Disposes of ``other``."""
    sqlite_path = database.sqlite_path
    assert sqlite_path is not None

    async def scenario() -> tuple[list[str], list[list[list[commit_bell.Carried] | None]]]:
        hub = PushHub(database, 60.0, poll_interval=SLOW_LOOK)
        listeners = [commit_bell.BellListener(sqlite_path) for _ in range(workers)]
        subscription = await hub.subscribe("page:f")
        try:
            await asyncio.to_thread(
                other.run, lambda db: push.publish_many(db, [("page:f", b) for b in bodies])
            )
            got = [(await asyncio.wait_for(subscription.queue.get(), 5)).body for _ in bodies]
            return got, [listener.drain() for listener in listeners]
        finally:
            hub.unsubscribe(subscription)
            await hub.close()
            for listener in listeners:
                listener.close()

    try:
        return asyncio.run(scenario())
    finally:
        other.dispose()
