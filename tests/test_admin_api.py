"""The admin API (/admin/api/v1/): keys and scopes, status, and every path with and without
its trailing slash."""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.admin_api.routes import ENDPOINTS
from server.api_keys import SCOPES, create_key, scope_allows
from server.app import create_app
from tests.databases import engine as make_engine
from tests.rest_helpers import REST_KEY, assert_error_shape, table_counts

ADMIN = {"Authorization": f"Bearer {REST_KEY}"}


@pytest.fixture
def api(settings) -> Iterator[TestClient]:
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


def test_status_answers_version_database_and_migrations(api):
    response = api.get("/admin/api/v1/status/", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["database"] in ("sqlite", "postgresql")
    assert body["database_size_bytes"] > 0
    assert body["migrations_pending"] is False
    assert body["schema_revision"] == body["schema_head"]
    assert body["public_demo"] is False
    assert response.headers["cache-control"] == "no-store"


def test_status_with_and_without_trailing_slash_and_either_header(api):
    for path in ("/admin/api/v1/status", "/admin/api/v1/status/"):
        for headers in (ADMIN, {"otree-rest-key": REST_KEY}):
            response = api.get(path, headers=headers, follow_redirects=False)
            assert response.status_code == 200, (path, headers)


def test_no_key_or_a_wrong_key_is_401_in_the_error_shape(api):
    assert_error_shape(api.get("/admin/api/v1/status/"), 401)
    wrong = api.get("/admin/api/v1/status/", headers={"Authorization": "Bearer nope"})
    assert_error_shape(wrong, 401)
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_the_admin_api_needs_a_key_even_where_the_rest_api_is_open(client):
    """With no key configured, /api/ is open on a dev server (oTree's rule); the admin API
    is not."""
    assert client.get("/api/otree_version").status_code == 200
    assert_error_shape(client.get("/admin/api/v1/status/"), 401)


def test_an_unknown_path_or_method_answers_the_json_error_shape(api):
    assert_error_shape(api.get("/admin/api/v1/nothing-here/", headers=ADMIN), 404)
    assert_error_shape(api.post("/admin/api/v1/status/", headers=ADMIN), 405)


def test_the_admin_api_is_in_the_openapi_document(api):
    spec = api.get("/api/openapi.json").json()
    operation = spec["paths"]["/admin/api/v1/status/"]["get"]
    assert operation["x-required-scope"] == "read"
    assert "401" in operation["responses"]


def _workers(api) -> list[dict]:
    """The status's workers, once the app's first heartbeat is in (it runs beside startup)."""
    deadline = time.monotonic() + 5
    while True:
        workers = api.get("/admin/api/v1/status/", headers=ADMIN).json()["workers"]
        if workers or time.monotonic() > deadline:
            return workers
        time.sleep(0.05)


def test_status_lists_the_workers_seen_recently(api, settings):
    (worker,) = _workers(api)
    assert worker["host"] == socket.gethostname()
    assert worker["pid"] == os.getpid()
    assert worker["worker_id"].startswith(f"{worker['host']}:{worker['pid']}:")
    other = create_app(settings.with_changes(rest_key=REST_KEY))
    try:
        with TestClient(other) as second:
            deadline = time.monotonic() + 5
            while len(_workers(second)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(_workers(api)) == 2  # each app is a worker; both share the database
        assert len(_workers(api)) == 1  # a worker that shut down is forgotten
    finally:
        other.state.grove.db.dispose()


def _concrete(path: str) -> str:
    """An endpoint's path with every parameter filled (names nothing that exists)."""
    return re.sub(r"\{\w+\}", "nothing_here", path)


@pytest.mark.parametrize(
    "endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path.removeprefix('/admin/api/v1')}"
)
def test_every_operation_needs_a_key_and_its_scope(api, settings, endpoint):
    """Walks the whole table: no key is a 401, a key below the operation's scope a 403, both
    in the one error shape and writing nothing."""
    db = api.app.state.grove.db
    keys = {
        scope: db.run(lambda s, scope=scope: create_key(s, f"{scope}_user", scope))
        for scope in SCOPES
    }
    engine = make_engine(settings.database_url)
    try:
        before = table_counts(engine)
        path = _concrete(endpoint.path)
        assert_error_shape(api.request(endpoint.method, path, json={}), 401)
        for scope, key in keys.items():
            if not scope_allows(scope, endpoint.required_scope):
                refused = api.request(
                    endpoint.method, path, json={}, headers={"Authorization": f"Bearer {key}"}
                )
                body = assert_error_shape(refused, 403)
                assert f"scope is {scope!r}" in body["error"]
        assert table_counts(engine) == before
    finally:
        engine.dispose()
