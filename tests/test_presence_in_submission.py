"""A page submission notes its participant as seen in its own unit of work, in the UPDATE of
the participant's new position: not in a second write transaction from the presence
middleware (on SQLite every write queues on one lock)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from bench.projects import build_grove_project
from server.app import create_app
from server.bots.html_form import page_form
from server.config import Settings, load_settings
from server.models.core import Participant
from tests import databases
from tests.conftest import create_demo_session
from tests.form_filling import entered_values


@pytest.fixture
def bench_settings(tmp_path: Any) -> Settings:
    project = build_grove_project(tmp_path / "project", configs=["bench_form"])
    return load_settings(project, {"DATABASE_URL": databases.database_url(tmp_path)})


@pytest.fixture
def bench_app(bench_settings: Settings) -> Iterator[Any]:
    application = create_app(bench_settings)
    yield application
    application.state.grove.db.dispose()


def _last_seen(application: Any, code: str) -> Any:
    with application.state.grove.db.read() as db:
        return db.scalar(sa.select(Participant.last_seen).where(Participant.code == code))


def test_a_submission_notes_the_participant_in_its_one_write(
    bench_app: Any, bench_settings: Settings
) -> None:
    with TestClient(bench_app) as client:
        _code, links = create_demo_session(client, "bench_form")
        page = client.get(links[0])
        code = str(page.url).split("/")[4]
    with bench_app.state.grove.db.transaction() as db:
        db.execute(sa.update(Participant).where(Participant.code == code).values(last_seen=None))
    # Another worker, which has not seen the participant, takes the submission.
    other_worker = create_app(bench_settings)
    writes: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE"):
            writes.append(statement)

    try:
        engine = other_worker.state.grove.db.engine
        with TestClient(other_worker) as other:
            form = page_form(page.text)
            pairs = dict(form.submission(entered_values(form, {"answer": "42"})))
            sa.event.listen(engine, "before_cursor_execute", note)
            response = other.post(str(page.url), data=pairs, follow_redirects=False)
            sa.event.remove(engine, "before_cursor_execute", note)
        assert response.status_code == 303
        assert "/Done/" in response.headers["location"]
        assert _last_seen(bench_app, code) is not None
        participant_updates = [s for s in writes if s.startswith("UPDATE grove_participant")]
        assert len(participant_updates) == 1, writes
        assert "last_seen" in participant_updates[0]
        assert "index_in_pages" in participant_updates[0]
    finally:
        other_worker.state.grove.db.dispose()


def test_the_timeout_sweeps_submission_is_not_a_sighting(bench_app: Any) -> None:
    from server.participant_pages import submit_page

    with TestClient(bench_app) as client:
        _code, links = create_demo_session(client, "bench_form")
        page = client.get(links[0])
    code, index = str(page.url).split("/")[4], int(str(page.url).split("/")[-1])
    grove = bench_app.state.grove
    with grove.db.transaction() as db:
        db.execute(sa.update(Participant).where(Participant.code == code).values(last_seen=None))
    submit_page(grove.db, grove.project, code, index, {}, None, timeout_happened=True)
    assert _last_seen(bench_app, code) is None
