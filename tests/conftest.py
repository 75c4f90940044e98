"""Fixtures: settings on a fresh SQLite file per test, the app, a client, and headless
Chromium for the browser suites."""

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

from server.app import create_app
from server.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The sample project's settings on a fresh SQLite database."""
    from server.config import load_settings

    loaded = load_settings(REPO_ROOT, {"DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite3'}"})
    return loaded


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
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server for the whole test run; skipped only outside CI when absent."""
    from tests.postgres import postgres_available, postgres_server

    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    from tests.postgres import create_database

    return create_database(postgres_server_url)


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
