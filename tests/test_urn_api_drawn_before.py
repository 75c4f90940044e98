"""An id the study has drawn before, through the urn APIs: answered as drawn before whatever
levels come with it, and no trace of the refused draw in the study (issue 20: a draw logs
itself only if its id is new, in one statement, instead of looking the id up first)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from server.randomization.service import verify
from server.randomization.session_urn import study_name_of
from server.sessions import get_session


@pytest.fixture
def urn(settings) -> Iterator[tuple[TestClient, Any, str, str]]:
    app = create_app(settings)
    with app.state.grove.db.transaction() as db:
        key = create_key(db, "alice", "write")
    with TestClient(app) as client:
        client.headers.update({"otree-rest-key": key})
        code = client.post(
            "/api/sessions/",
            json={"session_config_name": "randomized_trial", "num_participants": 2},
        ).json()["code"]
        yield client, app.state.grove.db, key, code
    app.state.grove.db.dispose()


def _draw(client: TestClient, key: str, study: str, id_: str, **levels: str) -> Any:
    return client.post(
        "/study_participants", params={"api_key": key, "study": study, "id": id_, **levels}
    )


def _study_state(client: TestClient, db: Any, study: str) -> tuple[Any, ...]:
    with db.read() as session:
        name = study_name_of(get_session(session, study))
    config = client.get("/study_config", params={"study": study}).json()["results"]
    listing = client.get("/study_participants", params={"study": study}).json()["results"]
    return name, config, listing


@pytest.mark.parametrize(
    "levels",
    [
        {"age_group": "18-40", "sex": "Female"},  # valid, other than the first draw's
        {"age_group": "99+", "sex": "Male"},  # an invalid level
        {"age_group": "18-40"},  # a factor missing
    ],
)
def test_an_id_drawn_before_is_refused_whatever_its_levels(urn, levels):
    client, db, key, study = urn
    first = _draw(client, key, study, "P1", age_group="41-65", sex="Male")
    assert first.status_code == 200
    before = _study_state(client, db, study)

    again = _draw(client, key, study, "P1", **levels)
    assert again.status_code == 400
    assert "already been randomized" in again.json()["message"]
    assert _study_state(client, db, study) == before

    # The refused draw took no step of the RNG and no sequence number: the next id's draw is
    # the one a replay of the history gives.
    assert _draw(client, key, study, "P2", age_group="65+", sex="Female").status_code == 200
    rows = client.get("/study_participants", params={"study": study}).json()["results"]
    assert [row["id"] for row in rows] == ["P1", "P2"]
    name = before[0]
    with db.read() as session:
        assert verify(session, name) == []


@pytest.mark.parametrize("levels", [{"age_group": "65+", "sex": "Female"}, {"sex": "Other"}])
def test_a_participant_randomized_again_gets_its_first_treatment(urn, levels):
    client, db, _key, code = urn
    participant = client.get(f"/api/sessions/{code}").json()["participants"][0]["code"]
    first = client.post(
        f"/api/sessions/{code}/randomize",
        json={"participant_code": participant, "levels": {"age_group": "18-40", "sex": "Male"}},
    ).json()
    assert first["new"] is True
    again = client.post(
        f"/api/sessions/{code}/randomize",
        json={"participant_code": participant, "levels": levels},
    )
    assert again.status_code == 200, again.text
    assert again.json() == {**first, "new": False}
    other = client.get(f"/api/sessions/{code}").json()["participants"][1]["code"]
    second = client.post(
        f"/api/sessions/{code}/randomize",
        json={"participant_code": other, "levels": {"age_group": "41-65", "sex": "Female"}},
    ).json()
    assert second["sequence"] == first["sequence"] + 1
    with db.read() as session:
        assert verify(session, study_name_of(get_session(session, code))) == []
