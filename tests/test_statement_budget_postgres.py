"""How many SQL statements a valid page submission sends on PostgreSQL, the production
database (tests/test_statement_budget.py has SQLite's budgets and says why they matter).

On PostgreSQL each statement is a round trip to the database server, whose work is counted in
the benchmark's CPU per request (bench/README.md), and a unit of work sends a few statements
SQLite does not: the row locks (LOCK ORDER in server/db.py) and the look before them. As in
the SQLite budgets, transaction control (BEGIN, COMMIT) is not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bench.projects import build_grove_project
from server.app import create_app
from server.bots.html_form import page_form
from server.config import load_settings
from tests import databases
from tests.form_filling import entered_values
from tests.test_statement_budget import _page_url, _within, counted

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# The group's row lock (found from the player of the participant on the page the URL names,
# in the same statement), the participant's locked read (which also answers the
# transaction's id, the change stamp's number), their player read afresh, the page
# completion's INSERT, the player's and the participant's UPDATEs. (9 before the look before
# the locks read the player too, then was left out, and the locked read answered the
# transaction's id.)
PAGE_POST = 6


@pytest.fixture
def bench_app(tmp_path: Path) -> Iterator[Any]:
    project = build_grove_project(tmp_path / "project", configs=["bench_form"])
    url = databases.database_url(tmp_path, "budget", backend=databases.POSTGRESQL)
    settings = load_settings(project, {"DATABASE_URL": url})
    # No timeout sweep during the test: its statements would be counted with the request's.
    application = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    yield application
    application.state.grove.db.dispose()


def test_a_valid_submission_sends_few_statements(bench_app: Any) -> None:
    with TestClient(bench_app) as client:
        url = _page_url(client, "bench_form")
        form = page_form(client.get(url).text)
        pairs = dict(form.submission(entered_values(form, {"answer": "42"})))
        with counted(bench_app) as statements:
            response = client.post(form.action or url, data=pairs, follow_redirects=False)
        assert response.status_code == 303
        assert "/Done/" in response.headers["location"]
    assert any(s.startswith("UPDATE bench_form_player SET answer") for s in statements)
    _within(statements, PAGE_POST)
