"""Creating, listing, revoking and checking per-user API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit_log import RESERVED_WHO
from server.db import Database
from server.errors import InvalidArguments, NotFound
from server.models.api_keys import ApiKey
from server.models.core import stored_utc, utcnow

USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")

Scope = Literal["read", "write", "admin"]
# Each scope allows what the ones before it allow: read (GET, exports) < write (vars, creating
# sessions) < admin (everything).
SCOPES: tuple[Scope, ...] = get_args(Scope)


def scope_allows(granted: str, needed: Scope) -> bool:
    """May a key of scope ``granted`` call an operation that needs ``needed``?"""
    return granted in SCOPES and SCOPES.index(granted) >= SCOPES.index(needed)


# A key's last use is written at most this often (seconds): the keys page's "Last used".
LAST_USED_PRECISION_SECONDS = 60


@dataclass(frozen=True)
class KeyHolder:
    """The user a key belongs to, the key's scope, and when it was last noted as used."""

    user: str
    scope: Scope
    last_used_at: dt.datetime | None = None

    def use_is_stale(self, now: dt.datetime) -> bool:
        """Should this use be written (never noted, or over LAST_USED_PRECISION_SECONDS ago)?"""
        if self.last_used_at is None:
            return True
        return (now - stored_utc(self.last_used_at)).total_seconds() >= LAST_USED_PRECISION_SECONDS


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _check_user(user: str) -> str:
    if not USER_NAME.match(user or ""):
        raise InvalidArguments(
            "user names are 1-100 letters, digits, '_', '.', '@' or '-'", field="user"
        )
    if user.lower() in RESERVED_WHO:
        # The audit log would record this key's changes as the server key's, the command
        # line's, the admin area's or an anonymous caller's (and the rate limit count them so).
        raise InvalidArguments(
            f"user name {user!r} is reserved: the audit log uses it for "
            f"{', '.join(sorted(RESERVED_WHO))}",
            field="user",
        )
    return user


def check_scope(scope: str) -> Scope:
    """``scope`` if it is one of SCOPES; InvalidArguments (field ``scope``) otherwise."""
    for known in SCOPES:
        if scope == known:
            return known
    raise InvalidArguments(
        f"scope must be one of {', '.join(SCOPES)}, not {scope!r}", field="scope"
    )


def create_key(db: Session, user: str, scope: str = "admin") -> str:
    """Create a key of ``scope`` for a new user; return it (it is never shown again).

    Raises InvalidArguments for a bad user name or scope, or a user who has a key already.
    """
    _check_user(user)
    checked = check_scope(scope)
    if db.scalar(sa.select(ApiKey.id).where(ApiKey.user == user)) is not None:
        raise InvalidArguments(f"user {user!r} already has a key; use regenerate", field="user")
    key = secrets.token_urlsafe(32)
    db.add(ApiKey(user=user, key_hash=hash_key(key), scope=checked))
    db.flush()
    return key


def set_scope(db: Session, user: str, scope: str) -> None:
    """Change the scope of a user's key (the key stays the same). Raises InvalidArguments
    for a bad scope, NotFound for a user without a key."""
    checked = check_scope(scope)
    row = db.scalars(sa.select(ApiKey).where(ApiKey.user == user)).first()
    if row is None:
        raise NotFound(f"user {user!r} has no key")
    row.scope = checked


def regenerate_key(db: Session, user: str) -> str:
    """Replace a user's key with a new one; return the new key."""
    row = db.scalars(sa.select(ApiKey).where(ApiKey.user == user)).first()
    if row is None:
        raise NotFound(f"user {user!r} has no key")
    key = secrets.token_urlsafe(32)
    row.key_hash = hash_key(key)
    return key


def revoke_key(db: Session, user: str) -> None:
    """Delete a user's key."""
    row = db.scalars(sa.select(ApiKey).where(ApiKey.user == user)).first()
    if row is None:
        raise NotFound(f"user {user!r} has no key")
    db.delete(row)


def list_users(db: Session) -> list[ApiKey]:
    """Every user with a key."""
    return list(db.scalars(sa.select(ApiKey).order_by(ApiKey.user)))


def any_keys(db: Session) -> bool:
    """Does at least one API key exist?"""
    return db.scalar(sa.select(ApiKey.id).limit(1)) is not None


def identify_key(database: Database, key: str | None) -> tuple[KeyHolder | None, bool]:
    """(the holder of this per-user key or None, whether any per-user key exists): one read."""
    with database.read() as db:
        holder = holder_of_key(db, key) if key is not None else None
        return holder, holder is not None or any_keys(db)


def holder_of_key(db: Session, key: str) -> KeyHolder | None:
    """The user whose key this is and its scope, or None. The comparison is constant-time."""
    digest = hash_key(key)
    row = db.scalars(sa.select(ApiKey).where(ApiKey.key_hash == digest)).first()
    if row is not None and hmac.compare_digest(row.key_hash, digest):
        return KeyHolder(row.user, check_scope(row.scope), row.last_used_at)
    return None


def note_key_used(database: Database, holder: KeyHolder) -> None:
    """Record that ``holder``'s key was used now, unless that was noted within
    LAST_USED_PRECISION_SECONDS (a read decides: most uses write nothing)."""
    now = utcnow()
    if not holder.use_is_stale(now):
        return
    database.run(
        lambda db: db.execute(
            sa.update(ApiKey).where(ApiKey.user == holder.user).values(last_used_at=now)
        )
    )
