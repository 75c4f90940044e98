"""API keys as the admin's keys page manages them: each operation of ``server/api_keys.py``
(the ones the CLI's ``apikey`` command runs) in its own unit of work. No HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server import api_keys
from server.audit_log import record_change
from server.db import Database


@dataclass(frozen=True)
class KeyHolder:
    """A user with a key and its scope (read, write or admin); times are ISO 8601 (UTC),
    ``last_used_at`` None if never used."""

    user: str
    scope: str
    created_at: str
    last_used_at: str | None


def key_holders(database: Database) -> list[KeyHolder]:
    """Every user with a key, by name (never the key: only its hash is stored)."""
    with database.read() as db:
        return [
            KeyHolder(
                user=row.user,
                scope=row.scope,
                created_at=row.created_at.isoformat(timespec="seconds"),
                last_used_at=(
                    row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else None
                ),
            )
            for row in api_keys.list_users(db)
        ]


def create_user_key(database: Database, user: str, scope: str = "admin", *, who: str) -> str:
    """Create a key of ``scope`` for a new user and return it (shown once; logged as
    ``key.create`` by ``who``, without the key). Raises InvalidArguments (a bad name or scope,
    or the user has a key already)."""

    def work(db: Session) -> str:
        key = api_keys.create_key(db, user, scope)
        record_change(db, who, "key.create", details={"user": user, "scope": scope})
        return key

    return database.run(work)


def set_user_scope(database: Database, user: str, scope: str, *, who: str) -> None:
    """Change the scope of a user's key (logged as ``key.scope`` by ``who``). Raises
    InvalidArguments (a bad scope), NotFound."""

    def work(db: Session) -> None:
        api_keys.set_scope(db, user, scope)
        record_change(db, who, "key.scope", details={"user": user, "scope": scope})

    database.run(work)


def regenerate_user_key(database: Database, user: str, *, who: str) -> str:
    """Replace a user's key (the old one stops working) and return the new one (logged as
    ``key.regenerate`` by ``who``, without the key). Raises NotFound."""

    def work(db: Session) -> str:
        key = api_keys.regenerate_key(db, user)
        record_change(db, who, "key.regenerate", details={"user": user})
        return key

    return database.run(work)


def revoke_user_key(database: Database, user: str, *, who: str) -> None:
    """Delete a user's key (logged as ``key.revoke`` by ``who``). Raises NotFound."""

    def work(db: Session) -> None:
        api_keys.revoke_key(db, user)
        record_change(db, who, "key.revoke", details={"user": user})

    database.run(work)
