"""Incremental pulls under concurrent writers: a write committed after a pull that could not see
it is returned by the next pull (server/change_sequence.py), on SQLite and on PostgreSQL.

On PostgreSQL the nasty order is also played: a transaction that took its number first commits
last, after a later one was already pulled."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import run_bots
from server.config import load_settings
from server.models.core import Participant
from tests import databases
from tests.conftest import REPO_ROOT


def _set_treatment(db, code: str, value: str) -> None:
    participant = db.scalars(sa.select(Participant).where(Participant.code == code)).one()
    participant.vars = {**(participant.vars or {}), "treatment": value}
    db.flush()


def _pull(client: TestClient, since: str) -> tuple[dict[str, str | None], str]:
    body = client.get(f"/api/export/all_apps_wide?format=json&since={since}").json()
    return {r["participant.code"]: r["participant.treatment"] for r in body["rows"]}, body[
        "next_since"
    ]


@pytest.mark.parametrize("backend", databases.BOTH)
def test_a_write_committed_after_a_pull_is_in_the_next_pull(tmp_path: Path, backend: str):
    url = databases.database_url(tmp_path, backend=backend)
    settings = load_settings(REPO_ROOT, {"DATABASE_URL": url})
    [result] = run_bots(settings, "trust", database_url=url)
    assert result.ok, result.error
    app = create_app(settings)
    database = app.state.grove.db
    try:
        with TestClient(app) as client:
            start = client.get("/api/export/all_apps_wide?format=json").json()
            first, second = (r["participant.code"] for r in start["rows"])
            cursor = start["next_since"]

            # A writer in flight during the pull: the pull cannot see it.
            with database.transaction() as early:
                _set_treatment(early, first, "early")
                if backend == databases.POSTGRESQL:
                    # A second writer, with a larger transaction id, commits first.
                    with database.transaction() as late:
                        _set_treatment(late, second, "late")
                seen, cursor_after = _pull(client, cursor)
                assert first not in seen
                if backend == databases.POSTGRESQL:
                    assert seen == {second: "late"}
            # The early writer commits after the pull: the next pull returns it.
            seen, cursor_last = _pull(client, cursor_after)
            assert seen.get(first) == "early"
            if backend == databases.SQLITE:
                assert seen == {first: "early"}
            # Nothing in flight any more: a pull from the last cursor is empty.
            assert _pull(client, cursor_last)[0] == {}
    finally:
        database.dispose()
