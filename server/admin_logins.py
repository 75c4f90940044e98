"""Admin logins kept in the database, and a throttle on login attempts. No HTTP here.

* A login is a random id: the admin cookie (signed with the secret key) holds it, the
  database holds its SHA-256 hash (:class:`~server.models.admin.AdminLogin`). Logging out
  deletes the row, so a copy of the cookie no longer works.
* Each login row carries a tag of the admin password it was made with (an HMAC under the
  secret key): a new ``ADMIN_PASSWORD`` / ``OTREE_ADMIN_PASSWORD`` voids every earlier login.
* Attempts are counted per client address and per username, per minute, in the database, so
  every worker and host counts together. Past :data:`ATTEMPTS_PER_CLIENT` (or
  :data:`ATTEMPTS_PER_USERNAME`) in this minute and the one before (so the count does not
  start afresh on the minute), :class:`LoginThrottled` says how many seconds to wait; refused
  attempts count too, so a client that keeps guessing stays refused. The attempt is counted
  (and committed) before the password is checked, so concurrent guesses cannot all slip
  under the limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.config import Settings
from server.db import Database, dialect_insert
from server.errors import GroveError
from server.models.admin import AdminLogin, LoginAttempts
from server.models.core import stored_utc, utcnow

WINDOW_SECONDS = 60
ATTEMPTS_PER_CLIENT = 10
ATTEMPTS_PER_USERNAME = 30
LOGIN_MAX_AGE_SECONDS = 14 * 24 * 60 * 60  # as long as the cookie lives


class LoginThrottled(GroveError):
    """Too many login attempts from this client or for this username; retry later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many login attempts. Try again in {retry_after} seconds.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginOutcome:
    """A successful login's id (for the cookie), or None for wrong credentials."""

    login_id: str | None


def password_tag(settings: Settings) -> str:
    """An HMAC (SHA-256, secret key) of the admin password: which password a login used."""
    return hmac.new(
        settings.secret_key.encode(),
        b"grove-admin-password\x00" + settings.admin_password.encode(),
        hashlib.sha256,
    ).hexdigest()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def credentials_match(settings: Settings, username: str, password: str) -> bool:
    """Username and password compared in constant time; never true without a password set."""
    user_ok = hmac.compare_digest(_digest(username), _digest(settings.admin_username))
    password_ok = hmac.compare_digest(_digest(password), _digest(settings.admin_password))
    return bool(settings.admin_password) and user_ok and password_ok


def _count_attempt(db: Session, key: str, window: int) -> int:
    statement = (
        dialect_insert(db, LoginAttempts)
        .values(key=key, window=window, attempts=1)
        .on_conflict_do_update(
            index_elements=["key", "window"], set_={"attempts": LoginAttempts.attempts + 1}
        )
        .returning(LoginAttempts.attempts)
    )
    return int(db.execute(statement).scalar_one())


def _keys(client: str, username: str) -> tuple[str, str]:
    return f"client:{_digest(client)[:64]}", f"user:{_digest(username)[:64]}"


def log_in(
    database: Database,
    settings: Settings,
    *,
    client: str,
    username: str,
    password: str,
    now: float | None = None,
) -> LoginOutcome:
    """Count the attempt, then check the credentials; on success store a new login.

    ``client`` is the caller's address (as the server sees it, after trusted proxies).
    Raises LoginThrottled (with seconds to wait) when the client or the username has used
    up its attempts of this minute.
    """
    moment = time.time() if now is None else now
    window = int(moment // WINDOW_SECONDS)
    rest_of_window = max(1, int(WINDOW_SECONDS - moment % WINDOW_SECONDS + 0.999))
    client_key, user_key = _keys(client, username)

    def count(db: Session) -> list[tuple[int, int]]:
        db.execute(sa.delete(LoginAttempts).where(LoginAttempts.window < window - 1))
        counted = []
        for key in (client_key, user_key):
            now_count = _count_attempt(db, key, window)
            before = db.get(LoginAttempts, (key, window - 1))
            counted.append((now_count, before.attempts if before is not None else 0))
        return counted

    counts = database.run(count)
    limits = (ATTEMPTS_PER_CLIENT, ATTEMPTS_PER_USERNAME)
    # A client's first attempt in two windows passes the username's limit: otherwise anyone
    # sending a wrong password now and then keeps the real admin out (an attack did). Each
    # address still has ATTEMPTS_PER_CLIENT a minute.
    client_is_new = counts[0] == (1, 0)
    for index, ((now_count, before), limit) in enumerate(zip(counts, limits, strict=True)):
        if index == 1 and client_is_new:
            continue
        if now_count + before > limit:
            # Over the limit within this minute alone: next minute still counts this one.
            raise LoginThrottled(rest_of_window + (WINDOW_SECONDS if now_count > limit else 0))
    if not credentials_match(settings, username, password):
        return LoginOutcome(None)
    login_id = secrets.token_urlsafe(32)
    tag = password_tag(settings)

    def store(db: Session) -> None:
        expired = utcnow() - dt.timedelta(seconds=LOGIN_MAX_AGE_SECONDS)
        db.execute(sa.delete(AdminLogin).where(AdminLogin.created_at < expired))
        # A good login clears its client's count: the admin's own typos do not lock them out.
        db.execute(
            sa.delete(LoginAttempts).where(
                LoginAttempts.key == client_key, LoginAttempts.window == window
            )
        )
        db.add(AdminLogin(id_hash=_digest(login_id), password_tag=tag))

    database.run(store)
    return LoginOutcome(login_id)


def login_is_valid(database: Database, settings: Settings, login_id: object) -> bool:
    """Is this cookie's login id one that is stored, not expired, and made with the current
    admin password?"""
    if not isinstance(login_id, str) or not 16 <= len(login_id) <= 100:
        return False
    with database.read() as db:
        login = db.get(AdminLogin, _digest(login_id))
        if login is None:
            return False
        created = stored_utc(login.created_at)
        fresh = utcnow() - created < dt.timedelta(seconds=LOGIN_MAX_AGE_SECONDS)
        return fresh and hmac.compare_digest(login.password_tag, password_tag(settings))


def log_out(database: Database, login_id: object) -> None:
    """Delete the login, so no copy of its cookie works any more (nothing if unknown)."""
    if not isinstance(login_id, str):
        return
    database.run(
        lambda db: db.execute(sa.delete(AdminLogin).where(AdminLogin.id_hash == _digest(login_id)))
    )
