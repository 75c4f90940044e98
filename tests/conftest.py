"""Fixtures: settings on a fresh database per test (SQLite, or PostgreSQL with
GROVE_TEST_DATABASE=postgresql: tests/databases.py), the app, a client, and headless Chromium
for the browser suites."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import server.db
from server.app import create_app
from server.config import Settings
from tests import databases
from tests.thorough import mark_thorough

REPO_ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    # No fsync per commit in the tests' own processes (server/db.py, SQLITE_SYNCHRONOUS).
    server.db.SQLITE_SYNCHRONOUS = "OFF"
    try:
        chosen = databases.selected()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if chosen == databases.POSTGRESQL:
        from tests.postgres import postgres_available

        if not postgres_available():
            raise pytest.UsageError(
                f"{databases.VARIABLE}=postgresql, but PostgreSQL is not installed "
                "(apt-get install postgresql, or set DATABASE_URL_POSTGRES_TEST)"
            )


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {databases.selected()} ({databases.VARIABLE})"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks the tests that leave the fast subset for CI's thorough pass (tests/thorough.py),
    before ``-m`` selects.

    The PostgreSQL pass leaves out the tests that choose their database themselves (marked
    sqlite or postgres): the default pass has run them, on the database they name.

    It also leaves out the browser tests that name no database: they check what a page shows
    and stores through Chromium, one participant at a time, and the same pages' forms are
    filled and stored on PostgreSQL by the tests that read the HTML without a browser
    (tests/form_filling.py). Browser tests of what crosses workers on PostgreSQL are marked
    postgres and run in the first pass. This keeps the CI run near its 30 minutes.
    """
    mark_thorough(items)
    if databases.selected() != databases.POSTGRESQL:
        return
    kept, left_out = [], []
    for item in items:
        named = item.get_closest_marker("sqlite") or item.get_closest_marker("postgres")
        browser_only = item.get_closest_marker("browser") is not None
        (left_out if named or browser_only else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    databases.stop_postgres()


@pytest.fixture(autouse=True)
def _drop_this_tests_databases() -> Iterator[None]:
    """Drop the PostgreSQL databases a test created once it is over (the module-scoped
    fixtures' ones, created earlier, stay until the run ends)."""
    count = databases.created_count()
    yield
    databases.drop_created_since(count)


@pytest.fixture(scope="session")
def _sample_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database the sample project's start has prepared (tables, revision), made
    once per run: a test's fresh database is a copy of it, as if the app had just made it."""
    from server.config import load_settings

    url = databases.database_url(tmp_path_factory.mktemp("template"), "sample", databases.SQLITE)
    create_app(load_settings(REPO_ROOT, {"DATABASE_URL": url})).state.grove.db.dispose()
    return databases.sqlite_file(url)


@pytest.fixture(autouse=True)
def _currency_format_restored() -> Iterator[None]:
    """The currency settings as they were before the test: loading a project sets them for
    the process (``server.currency.FORMAT``), as oTree's settings do."""
    from server.currency import FORMAT

    saved = dict(vars(FORMAT))
    yield
    vars(FORMAT).update(saved)


def copied_project(source: Path, destination: Path) -> Path:
    """A copy of the project folder ``source`` at ``destination`` (without bytecode caches),
    as it would sit on an experimenter's disk; returns ``destination``."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


@pytest.fixture
def botfail_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of tests/projects/botfail (bots that pass and fail on purpose) to edit, made
    the project ``python -m server test`` runs (GROVE_PROJECT_ROOT)."""
    root = copied_project(
        Path(__file__).resolve().parent / "projects" / "botfail", tmp_path / "project"
    )
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))
    return root


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The sample project's settings on a fresh database of the run's kind (on SQLite a copy
    of one the sample project's start prepared, which saves each test the tables' creation)."""
    from server.config import load_settings

    url = databases.database_url(tmp_path)
    if databases.selected() == databases.SQLITE:
        template = request.getfixturevalue("_sample_sqlite_template")
        shutil.copyfile(template, databases.sqlite_file(url))
    return load_settings(REPO_ROOT, {"DATABASE_URL": url})


@pytest.fixture
def app(settings: Settings) -> Iterator[Starlette]:
    """The application (tables created)."""
    application = create_app(settings)
    yield application
    application.state.grove.db.dispose()


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A test client with the lifespan running."""
    with TestClient(app) as test_client:
        yield test_client


def participant_links(html: str) -> list[str]:
    """The /InitializeParticipant links on a session's links page."""
    return re.findall(r'href="https?://[^/"]+(/InitializeParticipant/\w+)"', html)


def create_demo_session(client: TestClient, config: str) -> tuple[str, list[str]]:
    """Create a demo session through /demo; return its code and participant start links."""
    response = client.post(f"/demo/{config}", follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    code = location.rsplit("/", 1)[-1]
    links = participant_links(client.get(location).text)
    return code, links


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The run's PostgreSQL server; skipped only outside CI when absent."""
    return databases.postgres_server_url()


@pytest.fixture
def postgres_url(tmp_path: Path) -> str:
    """A fresh, empty PostgreSQL database for one test, whatever the run's database."""
    return databases.database_url(tmp_path, backend=databases.POSTGRESQL)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright; skipped only outside CI when absent."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed here (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
