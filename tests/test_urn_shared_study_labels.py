"""The urn API's ``id`` names a Grove participant by label in any session of a shared study
(a session config's ``urn['study']``), whether the call names the study or one of its
sessions' codes: that participant's vars get the treatment, and nobody else's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.sessions import get_session
from tests.test_security_urn_seed import URN, keyed_urn_client


@pytest.fixture
def shared_study(tmp_path) -> Iterator[tuple[TestClient, str]]:
    with keyed_urn_client(tmp_path, {"shared": {**URN, "study": "shared-trial"}}) as both:
        yield both


def _session(client: TestClient) -> str:
    response = client.post(
        "/api/sessions/", json={"session_config_name": "shared", "num_participants": 2}
    )
    assert response.status_code == 200, response.text
    return response.json()["code"]


def _label(client: TestClient, code: str, index: int, label: str) -> None:
    with client.app.state.grove.db.transaction() as db:
        get_session(db, code).get_participants()[index].label = label


def _draw(client: TestClient, key: str, study: str, participant: str) -> str:
    response = client.post(
        "/study_participants",
        params={"api_key": key, "study": study, "id": participant, "age_group": "65+"}
        | {"sex": "Male"},
    )
    assert response.status_code == 200, response.text
    return response.json()["results"][0]["trt"]


def _treatments(client: TestClient, code: str) -> list[Any]:
    detail = client.get(f"/api/sessions/{code}").json()
    return [p["vars"].get("treatment") for p in detail["participants"]]


def test_a_label_in_an_older_session_of_the_study_gets_the_treatment(shared_study):
    client, key = shared_study
    older, newer = _session(client), _session(client)
    _label(client, older, 1, "LAB-1")
    _label(client, newer, 0, "LAB-2")
    first = _draw(client, key, "shared-trial", "LAB-1")
    # Named by a session's code: the draw goes to that session's study.
    second = _draw(client, key, older, "LAB-2")
    _draw(client, key, "shared-trial", "nobody-here")
    assert _treatments(client, older) == [None, first]
    assert _treatments(client, newer) == [second, None]
    rows = client.get("/study_participants", params={"api_key": key, "study": "shared-trial"})
    assert [row["id"] for row in rows.json()["results"]] == ["LAB-1", "LAB-2", "nobody-here"]


def test_the_label_lookup_uses_an_index_whatever_the_number_of_sessions(shared_study):
    """The lookup of a labelled participant across a study's sessions searches the label's
    own index (migration 0011), not every participant (SQLite's query plan)."""
    from server.randomization.session_urn import _LABELLED

    client, _ = shared_study
    with client.app.state.grove.db.transaction() as db:
        connection = db.connection()
        if connection.dialect.name != "sqlite":
            pytest.skip("the query plan is read on SQLite")
        compiled = _LABELLED.compile(dialect=connection.dialect)
        plan = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(None for _ in compiled.positiontup or ())
        ).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_grove_participant_label" in details, details
