"""The APIs' rate limit per key (REDCap-style 429 with Retry-After): counted in the database,
so shared by every worker; off on the development server unless GROVE_API_RATE_LIMIT says,
600 per key and minute in production."""

from __future__ import annotations

import secrets
import threading

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server import rate_limit
from server.api_keys import create_key
from server.app import create_app
from server.config import load_settings
from server.errors import ConfigurationError, RateLimited
from server.models.rate_limits import ApiRequestCount
from server.rate_limit import count_api_request, count_api_request_at_once
from tests.conftest import REPO_ROOT
from tests.rest_helpers import REST_KEY, assert_error_shape

STATUS = "/admin/api/v1/status/"


@pytest.fixture
def limited(settings):
    """Two apps (workers) on one database, each allowing 3 requests per key and minute."""
    limited_settings = settings.with_changes(rest_key=REST_KEY, api_rate_limit_per_minute=3)
    apps = [create_app(limited_settings), create_app(limited_settings)]
    yield apps
    for app in apps:
        app.state.grove.db.dispose()


def test_the_fourth_request_of_a_minute_is_429_with_retry_after(limited):
    first, second = limited
    other_key = first.state.grove.db.run(lambda db: create_key(db, "other", "read"))
    with TestClient(first) as one, TestClient(second) as two:
        headers = {"otree-rest-key": REST_KEY}
        answers = [
            one.get(STATUS, headers=headers),
            two.get("/api/sessions/", headers=headers),  # the other worker, the other API
            one.get(STATUS, headers=headers),
        ]
        assert [a.status_code for a in answers] == [200, 200, 200]
        refused = two.get(STATUS, headers=headers)  # the count is shared, not per worker
        error = assert_error_shape(refused, 429)
        assert "3 API requests a minute" in error["error"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert_error_shape(one.get("/api/sessions/", headers=headers), 429)
        # Another key has its own count.
        assert one.get(STATUS, headers={"Authorization": f"Bearer {other_key}"}).status_code == 200


def test_a_new_minute_starts_a_new_count(settings):
    app = create_app(settings)
    try:
        db = app.state.grove.db
        minute = 1_800_000_000 - 1_800_000_000 % 60
        assert count_api_request(db, "alice", 2, now=minute + 1) == 1
        assert count_api_request(db, "alice", 2, now=minute + 59) == 2
        with pytest.raises(RateLimited) as refused:
            count_api_request(db, "alice", 2, now=minute + 50)
        assert refused.value.retry_after_seconds == 10
        assert count_api_request(db, "alice", 2, now=minute + 60) == 1
    finally:
        app.state.grove.db.dispose()


def test_no_limit_by_default_and_nothing_counted(settings):
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    try:
        with TestClient(app) as client:
            for _ in range(20):
                assert client.get(STATUS, headers={"otree-rest-key": REST_KEY}).status_code == 200
        with app.state.grove.db.read() as db:
            assert db.scalar(sa.select(sa.func.count()).select_from(ApiRequestCount)) == 0
    finally:
        app.state.grove.db.dispose()


def test_the_setting(settings):
    environ = {"DATABASE_URL": settings.database_url}
    assert load_settings(REPO_ROOT, environ).api_rate_limit_per_minute == 0
    production = {
        **environ,
        "OTREE_PRODUCTION": "1",
        "OTREE_SECRET_KEY": secrets.token_urlsafe(48),
        "OTREE_REST_KEY": secrets.token_urlsafe(24),
    }
    assert load_settings(REPO_ROOT, production).api_rate_limit_per_minute == 600
    assert (
        load_settings(
            REPO_ROOT, {**production, "GROVE_API_RATE_LIMIT": "0"}
        ).api_rate_limit_per_minute
        == 0
    )
    assert (
        load_settings(
            REPO_ROOT, {**environ, "GROVE_API_RATE_LIMIT": "120"}
        ).api_rate_limit_per_minute
        == 120
    )
    for bad in ("lots", "-1", "1.5"):
        with pytest.raises(ConfigurationError, match="GROVE_API_RATE_LIMIT"):
            load_settings(REPO_ROOT, {**environ, "GROVE_API_RATE_LIMIT": bad})


def _count_upserts(database) -> list[int]:
    writes: list[int] = []

    @sa.event.listens_for(database.engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, *_args):
        if "grove_api_request_count" in statement and statement.lstrip().startswith("INSERT"):
            writes.append(1)

    return writes


def test_a_busy_key_takes_numbers_in_blocks_and_two_workers_serve_at_most_the_limit(limited):
    first, second = (app.state.grove.db for app in limited)
    first_writes, second_writes = _count_upserts(first), _count_upserts(second)
    minute = 1_800_000_000 - 1_800_000_000 % 60
    served = 0
    for i in range(300):
        try:
            count_api_request((first, second)[i % 2], "busy", 160, now=minute + 1)
            served += 1
        except RateLimited:
            pass
    # Numbers a worker still held when the minute filled are lost to the other: a few.
    assert 160 - 2 * 10 <= served <= 160
    assert len(first_writes) + len(second_writes) < served / 2
    with first.read() as db:
        stored = db.scalar(
            sa.select(ApiRequestCount.count).where(ApiRequestCount.key_user == "busy")
        )
    assert stored >= 160


def test_requests_past_a_full_minute_are_refused_without_a_write(settings):
    app = create_app(settings)
    try:
        db = app.state.grove.db
        minute = 1_800_000_000 - 1_800_000_000 % 60
        count_api_request(db, "flood", 1, now=minute)
        with pytest.raises(RateLimited):
            count_api_request(db, "flood", 1, now=minute + 1)
        writes = _count_upserts(db)
        for second in range(2, 50):
            with pytest.raises(RateLimited):
                count_api_request(db, "flood", 1, now=minute + second)
        assert writes == []
        assert count_api_request(db, "flood", 1, now=minute + 60) == 1
        assert len(writes) == 1
    finally:
        app.state.grove.db.dispose()


def test_numbers_a_worker_holds_are_served_at_once_and_nothing_else(settings, monkeypatch):
    monkeypatch.setattr(rate_limit, "QUICK_SECONDS", 3600.0)  # every block twice the last
    app = create_app(settings)
    try:
        db = app.state.grove.db
        minute = 1_800_000_000 - 1_800_000_000 % 60
        writes = _count_upserts(db)
        # Nothing held: not counted (the caller counts in a thread).
        assert count_api_request_at_once(db, "quick", 100, now=minute) is None
        assert writes == []
        assert count_api_request(db, "quick", 100, now=minute) == 1  # a block of 1
        assert count_api_request_at_once(db, "quick", 100, now=minute) is None
        assert count_api_request(db, "quick", 100, now=minute) == 2  # a block of 2: 2 and 3
        assert len(writes) == 2
        assert count_api_request_at_once(db, "quick", 100, now=minute + 1) == 3
        assert count_api_request_at_once(db, "quick", 100, now=minute + 1) is None
        assert len(writes) == 2
        assert count_api_request(db, "quick", 100, now=minute + 1) == 4  # 4 to 7
        # While another thread uses the key's numbers: no wait, nothing counted.
        key_lock = rate_limit._counts_of(db).key_locks["quick"]
        with key_lock:
            answer: list[int | None] = []
            waiter = threading.Thread(
                target=lambda: answer.append(
                    count_api_request_at_once(db, "quick", 100, now=minute + 1)
                )
            )
            waiter.start()
            waiter.join(5)
            assert answer == [None]
        assert count_api_request_at_once(db, "quick", 100, now=minute + 1) == 5
        # A new minute: its numbers are taken first.
        assert count_api_request_at_once(db, "quick", 100, now=minute + 60) is None
        assert len(writes) == 3

        # Once the minute is seen full, refused at once, without a write.
        count_api_request(db, "flood", 1, now=minute)
        with pytest.raises(RateLimited):
            count_api_request(db, "flood", 1, now=minute + 1)
        before = len(writes)
        with pytest.raises(RateLimited) as refused:
            count_api_request_at_once(db, "flood", 1, now=minute + 50)
        assert refused.value.retry_after_seconds == 10
        assert len(writes) == before
    finally:
        app.state.grove.db.dispose()


def test_a_busy_key_keeps_its_block_size_and_a_quiet_one_takes_one_number(settings, monkeypatch):
    """Blocks double while each is used up within QUICK_SECONDS, keep their size while each is
    used up within STEADY_SECONDS (a key busy at a steady rate writes once a block, not once
    per few requests), and shrink to one number once a block lasted longer."""
    app = create_app(settings)
    try:
        db = app.state.grove.db
        minute = 1_800_000_000 - 1_800_000_000 % 60
        writes = _count_upserts(db)

        def serve(count: int) -> None:
            for _ in range(count):
                if count_api_request_at_once(db, "steady", 10**6, now=minute) is None:
                    count_api_request(db, "steady", 10**6, now=minute)

        monkeypatch.setattr(rate_limit, "QUICK_SECONDS", 3600.0)  # every block used quickly
        serve(1 + 2 + 4 + 8)
        assert len(writes) == 4  # blocks of 1, 2, 4 and 8
        monkeypatch.setattr(rate_limit, "QUICK_SECONDS", 0.0)  # none quickly, all steadily
        monkeypatch.setattr(rate_limit, "STEADY_SECONDS", 3600.0)  # (a slow write included)
        serve(8 * 5)
        assert len(writes) == 4 + 5  # five more blocks of 8
        monkeypatch.setattr(rate_limit, "STEADY_SECONDS", 0.0)  # the key went quiet
        serve(3)
        assert len(writes) == 4 + 5 + 3  # one number a block again
    finally:
        app.state.grove.db.dispose()
