"""Shared pieces of the admin API tests: a client on a server with OTREE_REST_KEY, and one
per-user key of each scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from tests.rest_helpers import REST_KEY

V1 = "/admin/api/v1"
ADMIN = {"Authorization": f"Bearer {REST_KEY}"}


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of ``key``."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api_app(settings) -> Iterator[Starlette]:
    """The sample project's app with OTREE_REST_KEY set (timeouts not swept)."""
    app = create_app(settings.with_changes(rest_key=REST_KEY, timeout_poll_seconds=3600.0))
    yield app
    app.state.grove.db.dispose()


@pytest.fixture
def api(api_app) -> Iterator[TestClient]:
    """A client of ``api_app`` with the lifespan running (no key sent unless asked)."""
    with TestClient(api_app) as client:
        yield client


@pytest.fixture
def scoped(api_app) -> dict[str, dict[str, str]]:
    """Headers with a per-user key of each scope: ``scoped["read"]`` etc."""
    db = api_app.state.grove.db
    return {
        scope: bearer(db.run(lambda s, scope=scope: create_key(s, f"{scope}_user", scope)))
        for scope in ("read", "write", "admin")
    }
