"""A REDCap-style rate limit on the APIs: each key may make at most N requests per minute;
one more is refused with RateLimited (HTTP 429 with ``Retry-After``: the seconds until the
next minute starts). N is ``Settings.api_rate_limit_per_minute`` (GROVE_API_RATE_LIMIT; 0,
the development server's default, turns it off; production's default is 600).

The count is shared through the database (``grove_api_request_count``: one row per key and
minute, incremented by one upsert per request), so a key gets N requests per minute in all,
whichever workers and hosts serve them, not N per worker. Old minutes are deleted by the
worker heartbeat (``server/worker_registry.py``). No HTTP here.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from server.db import Database, dialect_insert
from server.errors import RateLimited
from server.models.rate_limits import ApiRequestCount

WINDOW_SECONDS = 60


def count_api_request(
    database: Database, key_user: str, limit_per_minute: int, now: float | None = None
) -> int:
    """Count one request of ``key_user`` (a key's user) in the current minute; return the
    minute's count. Raises RateLimited when it passes ``limit_per_minute`` (the refused
    request is counted too: hammering does not open the door sooner)."""
    moment = time.time() if now is None else now
    window = int(moment // WINDOW_SECONDS) * WINDOW_SECONDS

    def work(db: Session) -> int:
        insert = dialect_insert(db, ApiRequestCount).values(
            key_user=key_user[:255], window_start=window, count=1
        )
        upsert = insert.on_conflict_do_update(
            index_elements=["key_user", "window_start"],
            set_={"count": ApiRequestCount.count + 1},
        ).returning(ApiRequestCount.count)
        return int(db.execute(upsert).scalar_one())

    count = database.run(work)
    if count > limit_per_minute:
        retry_after = max(1, int(window + WINDOW_SECONDS - moment + 0.999))
        raise RateLimited(
            f"too many requests: this key may make {limit_per_minute} API requests a minute; "
            f"try again in {retry_after} s",
            retry_after_seconds=retry_after,
        )
    return count
