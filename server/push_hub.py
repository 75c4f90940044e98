"""One push channel for the whole server: each worker process's subscribers get every message
published on their channel by any worker, on any host sharing the database.

A subscriber (a live page's WebSocket; later wait pages and room pages) calls
``await hub.subscribe(channel)`` and reads ``subscription.queue``. Publishing is
``server.push.publish`` inside a unit of work. How messages reach this process:

* PostgreSQL: one dedicated connection per worker process that ``LISTEN``s on
  ``server.push.NOTIFY_CHANNEL``; PostgreSQL delivers each ``NOTIFY`` at its transaction's
  commit. A message too large for a notification arrives as its row's id and is read from
  the table. After the connection was lost and came back, every subscription gets ``None``
  in its queue: read what you may have missed from the table (``recent_messages``).
* SQLite (the workers of one host): one task per worker process, running only while someone
  in the process subscribes, reads rows with ids above the last one it saw (one indexed
  lookup) when the commit bell rings (``server.commit_bell``: a commit that published, by
  any process, wakes every hub at once; a ring that carries its commit's messages, whose ids
  follow on from the last one seen, is dispatched as it is, without a read), and when
  ``PRAGMA data_version`` (``server.sqlite_changes``: no table read), asked every
  ``poll_interval`` seconds times BELL_POLL_FACTOR (every ``poll_interval`` without a bell),
  says someone committed; and at least every SAFETY_READ_SECONDS anyway. SQLite serializes
  writers, so ids commit in order, and AUTOINCREMENT never reuses one that committed.

Subscribing starts the watcher (or listener) and returns only once it runs, so a subscriber
that then reads the table's recent messages misses nothing in between (it may see a message
twice: messages carry ids for that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio.to_thread
import sqlalchemy as sa

from server import commit_bell, push
from server.commit_bell import BellListener
from server.db import Database
from server.push import Pushed
from server.sqlite_changes import CommitWatch

DEFAULT_POLL_INTERVAL = 0.005
# With a commit bell (server.commit_bell), data_version is asked this many times less often.
BELL_POLL_FACTOR = 10
# SQLite: the message table is read when the database changed, and at least this often.
SAFETY_READ_SECONDS = 1.0
RECONNECT_SECONDS = 1.0

logger = logging.getLogger("grove.push")


@dataclass(eq=False)
class Subscription:
    """One subscriber's messages, in the order they arrived; ``None``: maybe missed some."""

    channel: str
    queue: asyncio.Queue[Pushed | None] = field(default_factory=asyncio.Queue)


class PushHub:
    """This worker process's end of the push channel."""

    def __init__(
        self,
        database: Database,
        retention_seconds: float,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self._db = database
        self.retention_seconds = retention_seconds
        self._poll_interval = poll_interval
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._pruner: asyncio.Task[None] | None = None
        self._closed = False
        # The hub's reads take no token of the threads that run requests: with every one
        # of them waiting for a write lock, a read behind them would hold up every delivery.
        self._readers = anyio.CapacityLimiter(1)

    async def subscribe(self, channel: str) -> Subscription:
        """Receive the channel's messages from now on; raises what starting the watcher did."""
        subscription = Subscription(channel)
        self._subscriptions.setdefault(channel, set()).add(subscription)
        try:
            await self._running()
        except BaseException:
            self.unsubscribe(subscription)
            raise
        return subscription

    @contextlib.asynccontextmanager
    async def subscribed(self, channel: str) -> AsyncIterator[Subscription]:
        """``subscribe`` for the block; unsubscribed when it ends, however it ends."""
        subscription = await self.subscribe(channel)
        try:
            yield subscription
        finally:
            self.unsubscribe(subscription)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop receiving; the SQLite watcher stops when nobody in the process subscribes."""
        subscribers = self._subscriptions.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscriptions[subscription.channel]

    def recent(self, channel: str, since: float) -> list[Pushed]:
        """The channel's stored messages from ``since`` (epoch seconds) on, within the
        retention window (blocking: call it in a thread)."""
        since = max(since, time.time() - self.retention_seconds)
        with self._db.read() as db:
            return push.recent_messages(db, channel, since)

    async def close(self) -> None:
        """Stop the watcher or listener and the pruning (at the worker's shutdown)."""
        self._closed = True
        for task in (self._task, self._pruner):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # --- inside ------------------------------------------------------------------------

    def _dispatch(self, message: Pushed) -> None:
        for subscription in self._subscriptions.get(message.channel, ()):
            subscription.queue.put_nowait(message)

    def _resync_everyone(self) -> None:
        for subscribers in self._subscriptions.values():
            for subscription in subscribers:
                subscription.queue.put_nowait(None)

    async def _running(self) -> None:
        if self._closed:
            raise RuntimeError("the push hub is closed")
        if self._pruner is None:
            self._pruner = asyncio.create_task(self._prune_forever())
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._ready = loop.create_future()
            runner = self._watch_sqlite if self._db.is_sqlite else self._listen_postgres
            self._task = asyncio.create_task(runner(self._ready))
        assert self._ready is not None
        await asyncio.shield(self._ready)

    async def _watch_sqlite(self, ready: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        # Before the newest id is read: a commit after it counts as a change.
        commits = self._commit_watch()
        bell = self._bell_listener()
        rung = asyncio.Event()
        if bell is not None:
            loop.add_reader(bell.fileno(), rung.set)
        # With the bell, data_version is only the safety net for commits that do not ring.
        interval = self._poll_interval * (BELL_POLL_FACTOR if bell is not None else 1)
        try:
            last = await anyio.to_thread.run_sync(self._read_newest_id, limiter=self._readers)
            ready.set_result(None)
            read_at = loop.time()
            while self._subscriptions and not self._closed:
                # A ring that did not carry everything: read, whatever data_version says (a
                # carrying ring's commit, taken as its change, may have hidden this one's).
                must_read = False
                if bell is None:
                    await asyncio.sleep(interval)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(rung.wait(), interval)
                    rung.clear()
                    rings = bell.drain()
                    if rings:
                        last, carried = self._dispatch_carried(last, rings)
                        must_read = not carried
                        if carried:  # no need to read the table (unless for safety)
                            if commits is not None:
                                commits.changed()  # the change is those rings' commits
                            if loop.time() - read_at < SAFETY_READ_SECONDS:
                                continue
                quiet = commits is not None and not commits.changed() and not must_read
                if quiet and loop.time() - read_at < SAFETY_READ_SECONDS:
                    continue
                read_at = loop.time()
                try:
                    last = await self._dispatch_after(last)
                except Exception:
                    logger.exception("the push watcher cannot read the database")
                    await asyncio.sleep(RECONNECT_SECONDS)
                    continue
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise
        finally:
            self._task = None
            if commits is not None:
                commits.close()
            if bell is not None:
                loop.remove_reader(bell.fileno())
                bell.close()

    def _dispatch_carried(
        self, last: int, rings: list[list[commit_bell.Carried] | None]
    ) -> tuple[int, bool]:
        """Dispatch the messages the rings carried, in order, while their ids follow on
        from ``last`` (ids commit in order and are never reused, so the next message is
        ``last + 1``); the new last id, and whether the rings carried everything after the
        old one. A plain ring, or a message that does not follow on (a ring lost or not
        carrying, or two workers' rings crossing), stops it: the table is read then."""
        for messages in rings:
            if messages is None:
                return last, False
            for row_id, channel, body, created_at in messages:
                if row_id <= last:
                    continue  # seen: read from the table, or carried twice
                if row_id != last + 1:
                    return last, False
                self._dispatch(Pushed(row_id, channel, body, created_at))
                last = row_id
        return last, True

    async def _dispatch_after(self, last: int) -> int:
        """Dispatch every message with an id above ``last``; the new last id. Reads again
        while a read comes back full: one commit may hold more messages than one read (a page
        command to a whole session), and no further commit may come to say so."""
        while True:
            messages = await anyio.to_thread.run_sync(self._read_after, last, limiter=self._readers)
            for message in messages:
                last = max(last, message.id)
                self._dispatch(message)
            if len(messages) < push.READ_BATCH:
                return last

    def _commit_watch(self) -> CommitWatch | None:
        path = self._db.sqlite_path
        if path is None:
            return None
        try:
            return CommitWatch(path)
        except sqlite3.Error:
            return None  # then the table is read at every interval

    def _bell_listener(self) -> BellListener | None:
        path = self._db.sqlite_path
        if path is None:
            return None
        try:
            return BellListener(path)
        except OSError as error:
            logger.warning("no commit bell (%s): the push watcher polls", error)
            return None

    def _read_newest_id(self) -> int:
        with self._db.read() as db:
            return push.newest_id(db)

    def _read_after(self, last: int) -> list[Pushed]:
        with self._db.read() as db:
            return push.messages_after(db, last)

    def _read_ids(self, ids: list[int]) -> list[Pushed]:
        with self._db.read() as db:
            return push.messages_by_id(db, ids)

    def _conninfo(self) -> str:
        url = sa.make_url(self._db.url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    async def _listen_postgres(self, ready: asyncio.Future[None]) -> None:
        import psycopg

        connected_before = False
        try:
            while not self._closed:
                try:
                    connection = await psycopg.AsyncConnection.connect(
                        self._conninfo(), autocommit=True
                    )
                except Exception as exc:
                    if not ready.done():
                        ready.set_exception(exc)
                        return
                    logger.warning("push listener cannot connect (%s); trying again", exc)
                    await asyncio.sleep(RECONNECT_SECONDS)
                    continue
                try:
                    async with connection:
                        await connection.execute(f"LISTEN {push.NOTIFY_CHANNEL}")
                        if connected_before:
                            self._resync_everyone()
                        connected_before = True
                        if not ready.done():
                            ready.set_result(None)
                        async for note in connection.notifies():
                            message, message_id = push.parse_notification(note.payload)
                            if message is None:
                                fetched = await anyio.to_thread.run_sync(
                                    self._read_ids, [message_id], limiter=self._readers
                                )
                                for item in fetched:
                                    self._dispatch(item)
                            else:
                                self._dispatch(message)
                except Exception as exc:
                    # The connection was lost, or a notification could not be handled (its
                    # row unreadable for now): listen anew; subscribers then read what they
                    # may have missed (None in their queue).
                    logger.warning("push listener failed (%r); reconnecting", exc)
                    await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            self._task = None

    async def _prune_forever(self) -> None:
        interval = min(10.0, max(0.5, self.retention_seconds / 2))
        while not self._closed:
            await asyncio.sleep(interval)
            try:
                await anyio.to_thread.run_sync(self._prune)
            except Exception:
                logger.warning("pruning old push messages failed", exc_info=True)

    def _prune(self) -> None:
        with self._db.read() as db:
            if not push.has_expired(db, self.retention_seconds):
                return
        self._db.run(lambda db: push.prune(db, self.retention_seconds))
