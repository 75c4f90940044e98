"""The cookie that lets a browser come back to its participant (rooms, the session-wide link)."""

from __future__ import annotations

import re
import secrets

BROWSER_COOKIE = "grove_browser"
BROWSER_COOKIE_MAX_AGE = 60 * 60 * 24 * 30  # seconds: a month
# The tokens Grove hands out (secrets.token_urlsafe(24)); a cookie of any other shape is ignored.
BROWSER_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def browser_token_from(cookie: str | None) -> str | None:
    """The browser's token if its cookie holds one Grove could have given, else None."""
    if cookie and BROWSER_TOKEN.fullmatch(cookie):
        return cookie
    return None


def new_browser_token() -> str:
    """A fresh, unguessable browser token."""
    return secrets.token_urlsafe(24)
