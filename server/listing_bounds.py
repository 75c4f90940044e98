"""What the paged, filtered lists (sessions, the audit log; the data exports' since) accept:
the page bounds and a "since" time as a UTC bound. One place, so each list refuses the same
input the same way. No HTTP here.
"""

from __future__ import annotations

import datetime as dt

from server.errors import InvalidArguments

MAX_PER_PAGE = 500
# The last page anyone may ask for: its offset stays far inside a 64-bit integer, which is
# all SQLite and PostgreSQL take.
MAX_PAGE = 1_000_000_000


def check_page(page: int, per_page: int) -> None:
    """InvalidArguments (field ``page`` or ``per_page``) unless page is 1..MAX_PAGE and
    per_page 1..MAX_PER_PAGE."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidArguments(f"page must be 1 to {MAX_PAGE}, not {page}", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidArguments(
            f"per_page must be 1 to {MAX_PER_PAGE}, not {per_page}", field="per_page"
        )


def utc_bound(moment: dt.datetime, field: str) -> dt.datetime:
    """``moment`` in UTC (a naive time is UTC already): SQLite stores times as UTC text and
    drops a bound value's offset. InvalidArguments naming ``field`` for a time no UTC date can
    hold (9999-12-31T23:00-05:00, 0001-01-01T00:00+05:00: an OverflowError otherwise)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidArguments(
            f"{field} is outside the times a date can hold in UTC", field=field
        ) from None
