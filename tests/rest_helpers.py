"""Shared helpers of the REST API tests."""

from __future__ import annotations

import sqlalchemy as sa

REST_KEY = "test-rest-key-0123456789"
HEADERS = {"otree-rest-key": REST_KEY}


# Written by the server on its own (worker heartbeats, API request counts), not by requests.
BOOKKEEPING_TABLES = ("grove_worker", "grove_api_request_count")


def table_counts(engine: sa.Engine) -> dict[str, int]:
    """Row counts of every table (but the server's bookkeeping): used to prove a refused
    request wrote nothing."""
    inspector = sa.inspect(engine)
    with engine.connect() as connection:
        return {
            name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in inspector.get_table_names()
            if name not in BOOKKEEPING_TABLES
        }


def assert_error_shape(response, status: int) -> dict:
    """The one JSON error body, with the expected status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str)
    assert body["error"]
    assert isinstance(body["errors"], list)
    return body
