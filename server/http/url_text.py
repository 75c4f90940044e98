"""Refuse a URL or cookie holding text no database can store, before any route runs.

Every path and query parameter is a code, label or name that some route looks up or stores,
and PostgreSQL answers a NUL character in any of them with an error (SQLite just finds
nothing). Checking here, once, gives every route family the same clear 4xx in its own shape
(server/web/errors.py) instead of a 500 from whichever query ran first. The check runs in
``server/http/middleware.py``.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.requests import cookie_parser

from server.storable_text import unstorable_character

# Grove's own cookies (the browser token, the admin login); other sites' are never read.
GROVE_COOKIE_PREFIX = "grove_"


def unstorable_text_refusal(
    path: str, query_string: bytes, cookie: str | None
) -> tuple[int, str, str | None] | None:
    """``(status, message, field)`` if the request holds unstorable text, else None: 404 for
    such a ``path`` (as decoded, root path included), 400 for such a query parameter (the raw
    ``query_string``) or Grove cookie (``cookie``: the Cookie header, if any)."""
    problem = unstorable_character(path)
    if problem is not None:
        return 404, f"No page has this address: a code or name cannot contain {problem}.", None
    # A query's names and values are its bytes as Latin-1 with %XX escapes decoded as UTF-8,
    # invalid sequences replaced (Starlette's QueryParams, urllib's parse_qsl): no surrogate
    # can come out of that, and a NUL only from a raw zero byte or %00. Without either
    # (nearly every request) the query need not be parsed here.
    if query_string and (b"%00" in query_string or b"\x00" in query_string):
        for name, value in QueryParams(query_string).multi_items():
            problem = unstorable_character(name)
            if problem is not None:
                return 400, f"A query parameter's name cannot contain {problem}.", None
            problem = unstorable_character(value)
            if problem is not None:
                return 400, f"The query parameter {name} cannot contain {problem}.", name
    if cookie is not None and GROVE_COOKIE_PREFIX in cookie:
        for name, value in cookie_parser(cookie).items():
            if name.startswith(GROVE_COOKIE_PREFIX) and unstorable_character(value):
                return 400, f"The cookie {name} is damaged: clear this site's cookies.", None
    return None
