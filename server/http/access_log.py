"""uvicorn's access log without API keys. A key may be sent as an ``api_key`` query parameter
(the urn reference API's way, accepted on every API: ``server/rest/auth.py``), and uvicorn
logs each request's path with its query string (the development server logs every request),
so the log would hold the key. ``hide_keys_in_access_log`` puts a filter on uvicorn's access
logger that replaces the value with ``***``.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
KEY_PARAMETER = "api_key"
HIDDEN = "***"


def without_keys(path: str) -> str:
    """``path`` with the value of each ``api_key`` query parameter replaced by HIDDEN (its
    name as sent, percent-encoded or not)."""
    base, question, query = path.partition("?")
    if not question:
        return path
    parts = []
    for part in query.split("&"):
        name, _, _ = part.partition("=")
        parts.append(f"{name}={HIDDEN}" if unquote_plus(name) == KEY_PARAMETER else part)
    return f"{base}?{'&'.join(parts)}"


class HideApiKeys(logging.Filter):
    """Hide keys in a record's arguments (uvicorn's access log passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument; never drop the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                without_keys(arg) if isinstance(arg, str) and "?" in arg else arg
                for arg in record.args
            )
        return True


def hide_keys_in_access_log() -> None:
    """Install HideApiKeys on uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, HideApiKeys) for f in logger.filters):
        logger.addFilter(HideApiKeys())
