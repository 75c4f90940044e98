"""The push channel's storage: messages for open pages, written in the sender's unit of work.

A message is a row of ``grove_push_message`` for one channel (a live page of one participant:
``live:<code>:<page index>``), written in the same transaction as what it reports, so it
exists exactly when that transaction commits: nothing is delivered before the commit, and
nothing committed is lost. On PostgreSQL the same transaction sends ``NOTIFY`` (delivered by
PostgreSQL at commit, in commit order) to every worker's listening connection; on SQLite each
worker watches the table for new ids (``server.push_hub``). Rows are kept for the retention
window (``Settings.live_retention_seconds``, 60 s), so a page that reconnects gets what it
missed, and then pruned.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import note_published
from server.models.push import LiveReceipt, PushMessage

# PostgreSQL's channel for every push message (one LISTEN per worker process).
NOTIFY_CHANNEL = "grove_push"
# NOTIFY payloads are limited to 8000 bytes: a larger message travels as its row's id only.
NOTIFY_INLINE_LIMIT = 7000
# Notifications sent by one SELECT (PostgreSQL's target list holds at most 1664 entries).
NOTIFY_BATCH = 1000
# How long a live message's receipt stops a resent copy from running again (seconds).
RECEIPT_SECONDS = 3600.0
# The most messages ``messages_after`` reads at once.
READ_BATCH = 1000


@dataclass(frozen=True)
class Pushed:
    """A stored message: its id (unique, for deduplication), channel, JSON body and time."""

    id: int
    channel: str
    body: str
    created_at: float


def publish(db: Session, channel: str, body: str) -> None:
    """Store ``body`` (a JSON text) for ``channel`` in the caller's unit of work; every worker's
    subscribers of the channel get it once that unit of work commits."""
    publish_many(db, [(channel, body)])


def publish_many(db: Session, messages: list[tuple[str, str]]) -> None:
    """Store several ``(channel, body)`` messages as :func:`publish` does, in one INSERT (and
    on PostgreSQL one more statement per NOTIFY_BATCH of their notifications), in this
    order."""
    if not messages:
        return
    now = time.time()
    rows = [{"channel": channel, "body": body, "created_at": now} for channel, body in messages]
    if db.get_bind().dialect.name != "postgresql":
        # The rows stored, for the commit bell to carry (server.commit_bell); in one INSERT
        # (SQLite's RETURNING has no order, so SQLAlchemy would send one INSERT a row for
        # ids in the parameters' order). On the session's connection: the rows depend on
        # nothing pending in the session, which the commit flushes (no flush of its own).
        table: sa.Table = PushMessage.__table__  # type: ignore[assignment]
        stored = db.connection().execute(
            sa.insert(table).returning(table.c.id, table.c.channel, table.c.body), rows
        )
        note_published(db, sorted((row.id, row.channel, row.body, now) for row in stored))
        return
    # PostgreSQL delivers by NOTIFY at the commit: no bell, nothing to note (a note would
    # only pile up in a session reused for many units, as an async live method's).
    ids = db.scalars(
        sa.insert(PushMessage).returning(PushMessage.id, sort_by_parameter_order=True), rows
    ).all()
    payloads = [
        _notification(row_id, channel, body, now)
        for row_id, (channel, body) in zip(ids, messages, strict=True)
    ]
    for start in range(0, len(payloads), NOTIFY_BATCH):
        batch = payloads[start : start + NOTIFY_BATCH]
        db.execute(sa.select(*(sa.func.pg_notify(NOTIFY_CHANNEL, payload) for payload in batch)))


def publish_selected(
    db: Session, messages: sa.Select[Any], parameters: dict[str, Any] | None = None
) -> int:
    """Store the messages that ``messages`` selects with ``parameters`` (rows of a channel
    and a JSON text body, in that column order) as :func:`publish` does, in one statement
    that on PostgreSQL also sends their notifications (a body too large for one travels as
    its row's id). Returns how many were stored. The statement around ``messages`` is built
    once per ``messages`` object (pass one built once, with bound parameters)."""
    postgres = db.get_bind().dialect.name == "postgresql"
    statement = _publishing_statement(messages, postgres)
    rows = db.execute(statement, {**(parameters or {}), "push_created_at": time.time()}).all()
    if not postgres:  # the rows stored, for the commit bell to carry (server.commit_bell)
        note_published(db, [(row.id, row.channel, row.body, row.created_at) for row in rows])
    return len(rows)


@functools.lru_cache(maxsize=64)
def _publishing_statement(messages: sa.Select[Any], postgres: bool) -> sa.Executable:
    selected = messages.subquery()
    created_at = sa.bindparam("push_created_at", type_=sa.Float)
    # The table's INSERT, not the ORM's: the ORM takes parameters for an INSERT as its rows.
    table: sa.Table = PushMessage.__table__  # type: ignore[assignment]
    stored = sa.insert(table).from_select(
        ["channel", "body", "created_at"], sa.select(selected.c[0], selected.c[1], created_at)
    )
    if not postgres:
        return stored.returning(table.c.id, table.c.channel, table.c.body, table.c.created_at)
    rows = stored.returning(table.c.id, table.c.channel, table.c.body, table.c.created_at).cte(
        "stored"
    )
    note = [sa.literal("id"), rows.c.id, sa.literal("channel"), rows.c.channel]
    note += [sa.literal("created_at"), rows.c.created_at]
    inline = sa.cast(sa.func.json_build_object(*note, sa.literal("body"), rows.c.body), sa.Text)
    payload = sa.case(
        (sa.func.octet_length(inline) <= NOTIFY_INLINE_LIMIT, inline),
        else_=sa.cast(sa.func.json_build_object(*note), sa.Text),
    )
    return sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, payload)).select_from(rows)


def _notification(row_id: int, channel: str, body: str, created_at: float) -> str:
    note = {"id": row_id, "channel": channel, "created_at": created_at}
    inline = json.dumps({**note, "body": body})
    return inline if len(inline.encode()) <= NOTIFY_INLINE_LIMIT else json.dumps(note)


def parse_notification(payload: str) -> tuple[Pushed | None, int]:
    """A NOTIFY payload: the message if it came inline, else None and the row's id."""
    data = json.loads(payload)
    if "body" in data:
        return Pushed(data["id"], data["channel"], data["body"], data["created_at"]), data["id"]
    return None, int(data["id"])


def _as_pushed(rows: Iterable[PushMessage]) -> list[Pushed]:
    return [Pushed(row.id, row.channel, row.body, row.created_at) for row in rows]


def messages_by_id(db: Session, ids: Iterable[int]) -> list[Pushed]:
    """The stored messages with these ids (those not pruned yet), by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = db.scalars(sa.select(PushMessage).where(PushMessage.id.in_(wanted)).order_by("id"))
    return _as_pushed(rows)


def newest_id(db: Session) -> int:
    """The largest message id stored so far (0 for none)."""
    return db.scalar(sa.select(sa.func.max(PushMessage.id))) or 0


def messages_after(db: Session, after_id: int, limit: int = READ_BATCH) -> list[Pushed]:
    """Messages with an id above ``after_id``, oldest first (SQLite's watcher)."""
    rows = db.scalars(
        sa.select(PushMessage).where(PushMessage.id > after_id).order_by("id").limit(limit)
    )
    return _as_pushed(rows)


def recent_messages(db: Session, channel: str, since: float) -> list[Pushed]:
    """The channel's messages stored at or after ``since`` (epoch seconds), oldest first."""
    rows = db.scalars(
        sa.select(PushMessage)
        .where(PushMessage.channel == channel, PushMessage.created_at >= since)
        .order_by(PushMessage.created_at, PushMessage.id)
    )
    return _as_pushed(rows)


def has_expired(db: Session, retention_seconds: float) -> bool:
    """Are there messages or receipts to prune? (A read: pruning takes a write lock.)"""
    now = time.time()
    old_message = db.scalar(
        sa.select(PushMessage.id).where(PushMessage.created_at < now - retention_seconds).limit(1)
    )
    old_receipt = db.scalar(
        sa.select(LiveReceipt.id).where(LiveReceipt.created_at < now - RECEIPT_SECONDS).limit(1)
    )
    return old_message is not None or old_receipt is not None


def prune(db: Session, retention_seconds: float) -> None:
    """Delete messages older than the retention window and receipts older than an hour."""
    now = time.time()
    db.execute(sa.delete(PushMessage).where(PushMessage.created_at < now - retention_seconds))
    db.execute(sa.delete(LiveReceipt).where(LiveReceipt.created_at < now - RECEIPT_SECONDS))
