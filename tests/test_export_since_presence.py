"""A participant's sighting is not a change of their exported data: a refused form notes
the participant as seen (last_seen, in the submission's own unit of work) and must not make
the next incremental pull (``?since=``) return them; an accepted one must."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from bench.projects import build_grove_project
from server.app import create_app
from server.bots.html_form import page_form
from server.config import load_settings
from server.models.core import Participant
from tests import databases
from tests.conftest import create_demo_session
from tests.form_filling import entered_values


@pytest.fixture
def client(tmp_path: Any) -> Iterator[TestClient]:
    project = build_grove_project(tmp_path / "project", configs=["bench_form"])
    url = databases.database_url(tmp_path, "since")
    application = create_app(load_settings(project, {"DATABASE_URL": url}))
    with TestClient(application) as test_client:
        yield test_client
    application.state.grove.db.dispose()


def _stamp(client: TestClient, code: str) -> tuple[Any, Any]:
    with client.app.state.grove.db.read() as db:  # type: ignore[attr-defined]
        row = db.execute(
            sa.select(Participant.changed_seq, Participant.last_seen).where(
                Participant.code == code
            )
        ).one()
    return row.changed_seq, row.last_seen


def _post(client: TestClient, url: str, answer: str) -> Any:
    form = page_form(client.get(url).text)
    pairs = dict(form.submission(entered_values(form, {"answer": answer})))
    return client.post(form.action or url, data=pairs, follow_redirects=False)


def test_a_refused_form_notes_the_sighting_without_stamping_a_change(
    client: TestClient,
) -> None:
    _code, links = create_demo_session(client, "bench_form")
    url = str(client.get(links[0]).url).replace("http://testserver", "")
    code = url.split("/")[2]
    with client.app.state.grove.db.transaction() as db:  # type: ignore[attr-defined]
        db.execute(sa.update(Participant).where(Participant.code == code).values(last_seen=None))
    before, _ = _stamp(client, code)

    refused = _post(client, url, "500")  # the field's max is 100
    assert refused.status_code == 200
    assert "/Form/" in str(refused.url)
    after_refusal, seen = _stamp(client, code)
    assert seen is not None  # noted as seen
    assert after_refusal == before  # but nothing exported changed

    accepted = _post(client, url, "42")
    assert accepted.status_code == 303
    after_answer, _ = _stamp(client, code)
    assert after_answer is not None
    assert before is None or after_answer > before
