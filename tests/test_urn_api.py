"""The urn over HTTP: the reference API's paths, shapes and errors; concealment; and 200
concurrent randomizations across two workers."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from server.db import Database
from server.models.urn import UrnAssignment, UrnStudy
from server.randomization.service import verify
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server


@pytest.fixture
def urn_client(settings):
    app = create_app(settings)
    with app.state.grove.db.transaction() as db:
        key = create_key(db, "alice", "write")
    with TestClient(app) as client:
        client.headers.update({"otree-rest-key": key})
        code = client.post(
            "/api/sessions/",
            json={"session_config_name": "randomized_trial", "num_participants": 4},
        ).json()["code"]
        yield client, key, code
    app.state.grove.db.dispose()


def _levels(i: int) -> dict[str, str]:
    return {"age_group": ["18-40", "41-65", "65+"][i % 3], "sex": ["Male", "Female"][i % 2]}


def test_reference_examples(urn_client):
    client, key, study = urn_client
    config = client.get("/study_config", params={"api_key": key, "study": study}).json()
    assert config["status"] == 200
    assert config["message"] == "Success"
    assert config["results"]["treatments"] == ["Control", "Intervention"]
    assert config["results"]["D"] == "chisquare"
    assert config["results"]["starting_seed"] is None  # only admins see the seed
    result = client.post(
        "/study_participants",
        params={
            "api_key": key,
            "study": study,
            "id": "P042",
            "age_group": "18-40",
            "sex": "Female",
        },
    ).json()
    row = result["results"][0]
    assert row["id"] == "P042"
    assert row["f_age_group"] == "18-40"
    assert row["f_sex"] == "Female"
    assert row["trt"] in ("Control", "Intervention")
    assert row["user"] == "alice"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["datetime"])
    listing = client.get("/study_participants", params={"api_key": key, "study": study}).json()
    assert [r["id"] for r in listing["results"]] == ["P042"]


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        (
            {"study": "S", "id": "p", "age_group": "18-40", "sex": "Male", "api_key": None},
            401,
            "Missing",
        ),
        (
            {"study": "S", "id": "p", "age_group": "18-40", "sex": "Male", "api_key": "bad"},
            401,
            "Invalid",
        ),
        ({"id": "p", "age_group": "18-40", "sex": "Male"}, 400, "study"),
        (
            {"study": "no-such-study", "id": "p", "age_group": "18-40", "sex": "Male"},
            404,
            "no study",
        ),
        ({"study": "S", "age_group": "18-40", "sex": "Male"}, 400, "id"),
        ({"study": "S", "id": "p", "age_group": "18-40"}, 400, "sex"),
        ({"study": "S", "id": "p", "age_group": "99+", "sex": "Male"}, 400, "invalid level"),
        ({"study": "S", "id": "dup", "age_group": "18-40", "sex": "Male"}, 400, "already"),
    ],
)
def test_reference_errors(urn_client, params, status, fragment):
    client, key, study = urn_client
    client.headers.pop("otree-rest-key")
    client.post(
        "/study_participants",
        params={"api_key": key, "study": study, "id": "dup", "age_group": "41-65", "sex": "Male"},
    )
    query = {k: (study if v == "S" else v) for k, v in params.items()}
    if "api_key" not in params:
        query["api_key"] = key
    elif params["api_key"] is None:
        del query["api_key"]
    body = client.post("/study_participants", params=query)
    assert body.status_code == status
    data = body.json()
    assert data["status"] == status
    assert fragment.lower() in data["message"].lower()
    assert data["results"] == []


@pytest.mark.parametrize("how", ["data", "json"])
def test_a_key_sent_in_the_body_is_refused_saying_where_keys_go(urn_client, how):
    """``requests.post(url, data=params)`` (or ``json=params``) instead of the reference's
    ``params=params`` puts api_key in the body, where no key is read: the 401 said the key was
    missing and pointed at api_key, which the caller had sent; it names the query string."""
    client, key, study = urn_client
    client.headers.pop("otree-rest-key")
    params = {"api_key": key, "study": study, "id": "B1", **_levels(0)}
    answer = client.post("/study_participants", **{how: params})
    assert answer.status_code == 401
    assert "query string" in answer.json()["message"]
    assert (
        client.get("/study_participants", params={"api_key": key, "study": study}).json()["results"]
        == []
    )


def test_session_randomize_endpoint_is_idempotent(urn_client):
    client, _key, code = urn_client
    participant = client.get(f"/api/sessions/{code}").json()["participants"][0]["code"]
    first = client.post(
        f"/api/sessions/{code}/randomize",
        json={"participant_code": participant, "levels": _levels(1)},
    ).json()
    again = client.post(
        f"/api/sessions/{code}/randomize",
        json={"participant_code": participant, "levels": _levels(2)},
    ).json()
    assert first["treatment"] == again["treatment"]
    assert again["new"] is False
    detail = client.get(f"/api/sessions/{code}").json()
    assert detail["participants"][0]["vars"]["treatment"] == first["treatment"]
    assert detail["urn"]["num_assigned"] == 1


def test_label_id_stores_treatment_on_participant(urn_client):
    client, key, code = urn_client
    grove = client.app.state.grove
    from server.sessions import get_session

    with grove.db.transaction() as db:
        get_session(db, code).get_participants()[1].label = "LAB-7"
    row = client.post(
        "/study_participants", params={"api_key": key, "study": code, "id": "LAB-7", **_levels(0)}
    ).json()["results"][0]
    detail = client.get(f"/api/sessions/{code}").json()
    assert detail["participants"][1]["vars"]["treatment"] == row["trt"]


def test_an_id_with_surrounding_whitespace_is_the_labelled_participant_drawn_once(urn_client):
    """Labels drop surrounding whitespace wherever they come from (README, Rooms), so an id
    typed or pasted as " LAB-9 " is the participant labelled LAB-9: one draw, whose treatment
    the site is told and the participant's page shows. It was a second id: the site was told
    one treatment and the participant's page drew another for the same person."""
    client, key, code = urn_client
    client.headers.pop("otree-rest-key")
    grove = client.app.state.grove
    from server.sessions import get_session

    with grove.db.transaction() as db:
        participant = get_session(db, code).get_participants()[0]
        participant.label = "LAB-9"
        participant.vars = {**(participant.vars or {}), **_levels(0)}
        participant_code = participant.code
    site = client.post(
        "/study_participants", params={"api_key": key, "study": code, "id": " LAB-9 ", **_levels(0)}
    )
    assert site.status_code == 200, site.text
    [row] = site.json()["results"]
    assert row["id"] == "LAB-9"
    page = client.get(f"/InitializeParticipant/{participant_code}", follow_redirects=True)
    assert page.status_code == 200, page.text
    assert f">{row['trt']}<" in page.text
    log = client.get("/study_participants", params={"api_key": key, "study": code}).json()
    assert [(r["id"], r["trt"]) for r in log["results"]] == [("LAB-9", row["trt"])]
    again = client.post(
        "/study_participants", params={"api_key": key, "study": code, "id": "LAB-9\t", **_levels(0)}
    )
    assert again.status_code == 400
    assert "already" in again.json()["message"]
    blank = client.post(
        "/study_participants", params={"api_key": key, "study": code, "id": "  ", **_levels(0)}
    )
    assert blank.status_code == 400
    assert "id" in blank.json()["message"]


def _walk_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


def test_no_response_reveals_state_or_seed(urn_client):
    client, key, code = urn_client
    responses = [
        client.post(
            "/study_participants", params={"api_key": key, "study": code, "id": "x", **_levels(0)}
        ),
        client.get("/study_participants", params={"api_key": key, "study": code}),
        client.get("/study_config", params={"api_key": key, "study": code}),
        client.get(f"/api/sessions/{code}"),
        client.get("/api/sessions/"),
        client.get("/api/session_configs"),
    ]
    for response in responses:
        text = response.text
        assert "bit_generator" not in text
        # The generator's state is named by keys (rng_state_before, bit_generator, state);
        # participant codes are random letters and may spell "rng", so values are not searched.
        for name, value in _walk_keys(json.loads(text)):
            assert "rng" not in name.lower(), name
            assert name not in {"state", "seed"}, name
            if name == "starting_seed":
                assert value is None


def test_the_assignment_log_shows_rng_states_to_admin_keys_only(urn_client):
    """With the state before the last draw and the log, anyone can replay that draw and compute
    the next assignment for any levels: the export of the log is concealment-critical. A site's
    write key, and a read key, see the log without the states (None, as starting_seed is);
    admin keys (and the admin's export page) see them, as they see the seed."""
    client, key, code = urn_client
    client.headers.pop("otree-rest-key")
    with client.app.state.grove.db.transaction() as db:
        reader = create_key(db, "reader", "read")
        admin = create_key(db, "root", "admin")
    participant = client.get(f"/api/sessions/{code}", headers={"otree-rest-key": key})
    drawn = client.post(
        f"/api/sessions/{code}/randomize",
        headers={"otree-rest-key": key},
        json={
            "participant_code": participant.json()["participants"][0]["code"],
            "levels": _levels(0),
        },
    )
    assert drawn.status_code == 200, drawn.text
    exports = [
        "/api/export/urn_assignments?format=json",
        f"/api/export/urn_assignments?format=json&session={code}",
        f"/admin/api/v1/session/{code}/data/json/?table=urn_assignments",
    ]
    for who in (key, reader):
        for path in exports:
            answer = client.get(path, headers={"otree-rest-key": who})
            assert answer.status_code == 200, (path, answer.text)
            [row] = answer.json()["rows"]
            assert row["trt"] == drawn.json()["treatment"]
            assert row["rng_state_before"] is None, path
        csv_answer = client.get(
            "/api/export/urn_assignments?format=csv", headers={"otree-rest-key": who}
        )
        assert "rng_state_before" in csv_answer.text.splitlines()[0]
        assert "bit_generator" not in csv_answer.text
    for path in exports:
        answer = client.get(path, headers={"otree-rest-key": admin})
        [row] = answer.json()["rows"]
        assert row["rng_state_before"]["bit_generator"] == "PCG64", path


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_200_concurrent_randomizations_across_two_workers(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "urn", backend)
    with live_server(database_url, workers=2, extra_env={"OTREE_REST_KEY": "k"}) as base:
        headers = {"otree-rest-key": "k"}
        code = httpx.post(
            f"{base}/api/sessions/",
            headers=headers,
            json={"session_config_name": "randomized_trial", "num_participants": 2},
        ).json()["code"]

        def one(i: int) -> int:
            response = httpx.post(
                f"{base}/study_participants",
                timeout=60,
                params={"api_key": "k", "study": code, "id": f"C{i:03d}", **_levels(i)},
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(one, range(200)))
    assert statuses == [200] * 200
    database = Database(database_url)
    with database.read() as db:
        rows = db.scalars(sa.select(UrnAssignment).order_by(UrnAssignment.sequence)).all()
        assert [r.sequence for r in rows] == list(range(1, 201))
        states = {json.dumps(r.rng_state_before, sort_keys=True) for r in rows}
        assert len(states) == 200
        assert verify(db, code) == []  # the same sequence as replaying them in order
    database.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_concurrent_first_draws_of_a_settings_study(tmp_path, backend):
    """A settings study (URN_STUDIES) is stored at its first draw: sites that randomize at the
    same moment, on two workers, each find no row and create it. On PostgreSQL all but one
    of them were a 500 (the unique name, grove_urn_study_name_key), their draws lost; every one
    is a 200, one study, one seed, the sequence a replay in order gives."""
    database_url = databases.database_url(tmp_path, "urn_first", backend)
    with live_server(database_url, workers=2, extra_env={"OTREE_REST_KEY": "k"}) as base:

        def one(i: int) -> int:
            response = httpx.post(
                f"{base}/study_participants",
                timeout=60,
                params={"api_key": "k", "study": "My Study", "id": f"F{i:02d}", **_levels(i)},
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(one, range(16)))
    assert statuses == [200] * 16
    database = Database(database_url)
    with database.read() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(UrnStudy)) == 1
        assert verify(db, "My Study") == []
        assert db.scalar(sa.select(sa.func.count()).select_from(UrnAssignment)) == 16
    database.dispose()
