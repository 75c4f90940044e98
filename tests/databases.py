"""The database a test runs on: one helper for every URL the tests build.

The suite runs twice in CI (README, "Command line" and .ci/run): once on SQLite files (the
default) and once with ``GROVE_TEST_DATABASE=postgresql``, where every database a test asks
for is a fresh database on one PostgreSQL server started for the run (tests/postgres.py).

A test that must run on a particular database says so and then ignores the variable:

* ``pytest.mark.sqlite``: a test of SQLite itself (its column types, its file), and the SQLite
  half of a test parametrized over ``BOTH``;
* ``pytest.mark.postgres``: a test of PostgreSQL itself, and the PostgreSQL half of ``BOTH``.

The concurrency tests are parametrized over ``BOTH``, so the default pass runs them on both
databases with two workers; the PostgreSQL pass leaves out every test marked with either
marker, as it has already run (tests/conftest.py).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.db import normalise_database_url
from tests.postgres import create_database, drop_database, postgres_available, postgres_server

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
VARIABLE = "GROVE_TEST_DATABASE"

# For @pytest.mark.parametrize("backend", BOTH): each database, its half marked as above.
BOTH = [
    pytest.param(SQLITE, marks=pytest.mark.sqlite),
    pytest.param(POSTGRESQL, marks=[pytest.mark.slow, pytest.mark.postgres]),
]

_server = ExitStack()
_server_url: str | None = None
_created: list[str] = []


def selected() -> str:
    """The database of this run: ``GROVE_TEST_DATABASE`` (``sqlite``, the default, or
    ``postgresql``); raises ValueError for anything else."""
    value = os.environ.get(VARIABLE, SQLITE).strip().lower() or SQLITE
    if value not in (SQLITE, POSTGRESQL):
        raise ValueError(f"{VARIABLE} must be {SQLITE!r} or {POSTGRESQL!r}, not {value!r}")
    return value


def database_url(tmp_path: Path, name: str = "test", backend: str | None = None) -> str:
    """The URL of a fresh, empty database: a SQLite file ``<tmp_path>/<name>.sqlite3``, or a
    new database on the run's PostgreSQL server; ``backend`` overrides the run's choice."""
    backend = backend or selected()
    if backend == SQLITE:
        return f"sqlite:///{tmp_path / name}.sqlite3"
    if backend != POSTGRESQL:
        raise ValueError(f"unknown backend {backend!r}")
    url = create_database(postgres_server_url())
    _created.append(url)
    return url


def sqlite_file(url: str) -> Path:
    """The file of a SQLite URL from :func:`database_url` (for tests of the file itself)."""
    database = sa.make_url(url).database
    if sa.make_url(url).get_backend_name() != SQLITE or not database:
        raise ValueError(f"not a SQLite file URL: {url!r}")
    return Path(database)


def engine(url: str) -> sa.Engine:
    """A plain SQLAlchemy engine on a test database URL (psycopg 3 for PostgreSQL)."""
    return sa.create_engine(normalise_database_url(url))


def postgres_server_url() -> str:
    """The run's PostgreSQL server, started on first use and stopped by ``stop_postgres``.

    Skips the test when PostgreSQL is not installed, and fails it under ``CI``.
    """
    global _server_url
    if _server_url is None:
        if not postgres_available():
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is required in CI (apt-get install postgresql)")
            pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
        _server_url = _server.enter_context(postgres_server())
    return _server_url


def created_count() -> int:
    """How many PostgreSQL databases this run has created so far (see ``drop_created_since``)."""
    return len(_created)


def drop_created_since(count: int) -> None:
    """Drop the PostgreSQL databases created after ``created_count()`` returned ``count``:
    a test's databases, once it has finished (a run makes over a thousand)."""
    while len(_created) > count:
        drop_database(_created.pop())


def stop_postgres() -> None:
    """Stop the run's PostgreSQL server, if one was started."""
    global _server_url
    _server.close()
    _server_url = None
    _created.clear()
