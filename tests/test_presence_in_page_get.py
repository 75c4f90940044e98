"""A page GET tells the presence middleware what its own read of the participant found:
a ``last_seen`` another worker wrote moments ago costs nothing more (no read, no write), and
a due one costs the UPDATE alone, not a read to decide it first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from bench.projects import build_grove_project
from server.app import create_app
from server.config import Settings, load_settings
from server.models.core import Participant
from server.participant_presence import SEEN_REFRESH_SECONDS, seen_is_due
from tests import databases
from tests.conftest import create_demo_session


@pytest.fixture
def bench_settings(tmp_path: Any) -> Settings:
    project = build_grove_project(tmp_path / "project", configs=["bench_form"])
    return load_settings(
        project,
        {"DATABASE_URL": databases.database_url(tmp_path)},
    ).with_changes(timeout_poll_seconds=3600.0)


def _set_last_seen(application: Any, code: str, value: dt.datetime | None) -> None:
    with application.state.grove.db.transaction() as db:
        db.execute(sa.update(Participant).where(Participant.code == code).values(last_seen=value))


def _last_seen(application: Any, code: str) -> Any:
    with application.state.grove.db.read() as db:
        return db.scalar(sa.select(Participant.last_seen).where(Participant.code == code))


def _get_on_a_new_worker(settings: Settings, url: str) -> tuple[int, list[str]]:
    """GET ``url`` on a worker that has noted nobody: its status and the statements sent
    about participants (a new worker's own start-up work, such as clearing old API request
    counts, may run meanwhile)."""
    worker = create_app(settings)
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "grove_participant" in statement:
            statements.append(" ".join(statement.split())[:120])

    engine = worker.state.grove.db.engine
    try:
        with TestClient(worker) as client:
            sa.event.listen(engine, "before_cursor_execute", note)
            try:
                status = client.get(url, follow_redirects=False).status_code
            finally:
                sa.event.remove(engine, "before_cursor_execute", note)
    finally:
        worker.state.grove.db.dispose()
    return status, statements


@pytest.fixture
def on_the_page(bench_settings: Settings) -> Iterator[tuple[Any, str, str]]:
    application = create_app(bench_settings)
    try:
        with TestClient(application) as client:
            _code, links = create_demo_session(client, "bench_form")
            page = client.get(links[0])
            assert page.status_code == 200
            url = str(page.url)
            yield application, url.split("/")[4], url
    finally:
        application.state.grove.db.dispose()


def test_a_page_get_with_a_fresh_last_seen_writes_and_reads_nothing_more(
    bench_settings: Settings, on_the_page: tuple[Any, str, str]
) -> None:
    application, code, url = on_the_page
    moments_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    _set_last_seen(application, code, moments_ago)
    status, statements = _get_on_a_new_worker(bench_settings, url)
    assert status == 200
    assert len(statements) == 1, statements  # the page's own read
    assert not any(s.startswith("UPDATE") for s in statements)


def test_a_page_get_with_a_due_last_seen_writes_it_without_reading_first(
    bench_settings: Settings, on_the_page: tuple[Any, str, str]
) -> None:
    application, code, url = on_the_page
    _set_last_seen(application, code, None)
    status, statements = _get_on_a_new_worker(bench_settings, url)
    assert status == 200
    assert _last_seen(application, code) is not None
    assert len(statements) == 2, statements  # the page's read and the UPDATE
    assert statements[1].startswith("UPDATE grove_participant SET last_seen")

    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=SEEN_REFRESH_SECONDS + 5)
    _set_last_seen(application, code, long_ago)
    status, statements = _get_on_a_new_worker(bench_settings, url)
    assert status == 200
    assert len(statements) == 2, statements
    assert not seen_is_due(_last_seen(application, code))


def test_seen_is_due_reads_naive_times_as_utc() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    recent = dt.datetime(2026, 1, 1, 11, 59, 59)  # naive, as SQLite hands it back
    assert not seen_is_due(recent, now)
    assert seen_is_due(recent - dt.timedelta(seconds=SEEN_REFRESH_SECONDS), now)
    assert seen_is_due(None, now)
