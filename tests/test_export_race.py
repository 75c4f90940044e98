"""Incremental pulls under concurrent writers: a write committed after a pull that could not see
it is returned by the next pull (server/change_sequence.py), on SQLite and on PostgreSQL.

On PostgreSQL the nasty order is also played: a transaction that took its number first commits
last, after a later one was already pulled."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("backend", databases.BOTH)
def test_an_export_in_progress_blocks_no_participant_and_sees_one_snapshot(
    tmp_path: Path, backend: str
):
    from server.data_export.service import ExportRequest, open_export
    from tests.form_filling import Click, fill_and_submit

    url = databases.database_url(tmp_path, backend=backend)
    settings = load_settings(REPO_ROOT, {"DATABASE_URL": url})
    app = create_app(settings.with_changes(db_lock_timeout_seconds=2.0))
    grove = app.state.grove
    try:
        with TestClient(app) as client:
            created = client.post(
                "/api/sessions", json={"session_config_name": "survey", "num_participants": 1}
            ).json()
            [person] = client.get(f"/api/sessions/{created['code']}").json()["participants"]
            page = client.get(f"/InitializeParticipant/{person['code']}").url.path

            # The export has read its cursor: its snapshot is taken, its transaction open.
            export = open_export(grove.db, grove.project, ExportRequest("survey", format="json"))
            answer = fill_and_submit(
                client,
                page,
                {
                    "age": "44",
                    "gender": Click("Female"),
                    "temperature": "20",
                    "year_in_school": Click("Junior"),
                },
            )
            # Never waited for the export: a write kept waiting for it would have given up
            # after the 2 s lock timeout with a 503 (no time bound here: a busy machine's
            # request alone may take that long).
            assert answer.status_code == 303, answer.text
            # The export goes on with the snapshot it began with.
            body = json.loads(b"".join(export.chunks))
            assert [row["player.age"] for row in body["rows"]] == [None]
            # And the next pull has the new answer.
            later = client.get(f"/api/export/survey?format=json&since={export.next_since}").json()
            assert [row["player.age"] for row in later["rows"]] == [44]
    finally:
        grove.db.dispose()
