"""Urn studies on their own (no Grove session): the reference document's requests, written as
its Python examples write them, run against the sample project's "My Study"; studies created
over the CLI; settings.URN_STUDIES checked at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from server.config import load_settings
from server.errors import ConfigurationError, Conflict, InvalidArguments
from server.models.urn import UrnStudy
from server.randomization.service import verify
from server.randomization.studies import create_study, list_studies, study_summary

REPO_ROOT = Path(__file__).resolve().parent.parent
STUDY = "My Study"


@pytest.fixture
def reference(settings):
    """A client of the sample project and a user's API key, as the examples' BASE_URL and
    API_KEY."""
    app = create_app(settings)
    with app.state.grove.db.transaction() as db:
        key = create_key(db, "alice", "write")
    with TestClient(app) as client:
        yield client, key, app.state.grove
    app.state.grove.db.dispose()


def test_get_study_configuration_before_any_use(reference):
    client, api_key, grove = reference
    response = client.get("/study_config", params={"api_key": api_key, "study": STUDY})
    config = response.json()
    assert response.status_code == 200
    assert config["message"] == "Success"
    assert config["status"] == 200
    assert config["results"]["treatments"] == ["Treatment A", "Treatment B"]
    assert config["results"]["factors"] == {
        "age_group": ["18-40", "41-65", "65+"],
        "sex": ["Male", "Female"],
    }
    assert config["results"]["D"] == "chisquare"
    assert (config["results"]["alpha"], config["results"]["beta"], config["results"]["w"]) == (
        0,
        1,
        1,
    )
    assert config["results"]["urn_selection"] == "method1"
    assert config["results"]["starting_seed"] is None  # concealed
    # Reading creates nothing: the study is stored at its first draw.
    with grove.db.read() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(UrnStudy)) == 0
    listed = client.get("/study_participants", params={"api_key": api_key, "study": STUDY})
    assert listed.json() == {"message": "Success", "results": [], "status": 200}


def test_randomize_list_and_batch_as_the_examples_do(reference):
    client, api_key, grove = reference
    params = {"api_key": api_key, "study": STUDY, "id": "P042"}
    params["age_group"] = "18-40"
    params["sex"] = "Female"
    response = client.post("/study_participants", params=params)
    result = response.json()
    assert response.status_code == 200, result
    row = result["results"][0]
    assert row["trt"] in ("Treatment A", "Treatment B")
    assert {k: row[k] for k in ("id", "f_age_group", "f_sex", "user")} == {
        "id": "P042",
        "f_age_group": "18-40",
        "f_sex": "Female",
        "user": "alice",
    }
    assert len(row["datetime"]) == len("2025-09-15 14:30:00")

    factors = client.get("/study_config", params={"api_key": api_key, "study": STUDY}).json()[
        "results"
    ]["factors"]
    records = []
    for i in range(10):
        batch = {"api_key": api_key, "study": STUDY, "id": f"BATCH-{i:03d}"}
        for factor, levels in factors.items():
            batch[factor] = levels[i % len(levels)]
        records.append(client.post("/study_participants", params=batch).json()["results"][0])
    assert [r["id"] for r in records] == [f"BATCH-{i:03d}" for i in range(10)]

    listed = client.get("/study_participants", params={"api_key": api_key, "study": STUDY})
    assert [r["id"] for r in listed.json()["results"]] == ["P042"] + [r["id"] for r in records]
    # Once stored, the seed is still concealed from this key, and the history replays.
    config = client.get("/study_config", params={"api_key": api_key, "study": STUDY}).json()
    assert config["results"]["starting_seed"] is None
    with grove.db.read() as db:
        assert verify(db, STUDY) == []
        seed = (
            db.scalars(sa.select(UrnStudy).where(UrnStudy.name == STUDY))
            .one()
            .config["starting_seed"]
        )
    assert isinstance(seed, int)
    assert seed >= 0
    summary = study_summary(grove.db, grove.settings.urn_studies, STUDY)
    assert summary.num_assigned == 11
    assert sum(summary.treatment_totals.values()) == 11
    assert summary.defined_in == "settings"


def test_the_seed_comes_from_secrets_at_first_use(tmp_path, reference):
    # Two servers of the same project on two databases draw different seeds.
    _client, _key, grove = reference
    seeds = []
    for _ in range(2):
        summary = create_study(
            grove.db,
            {},
            f"trial {len(seeds)}",
            {"treatments": ["A", "B"], "factors": {"sex": ["M", "F"]}},
            who="test",
        )
        with grove.db.read() as db:
            seeds.append(
                db.scalars(sa.select(UrnStudy).where(UrnStudy.name == summary.name))
                .one()
                .config["starting_seed"]
            )
    assert seeds[0] != seeds[1]


def test_errors_in_the_reference_shape(reference):
    client, api_key, _grove = reference
    missing_key = client.get("/study_participants", params={"study": STUDY}).json()
    assert missing_key["status"] == 401
    unknown = client.get("/study_config", params={"api_key": api_key, "study": "No Study"})
    assert unknown.status_code == 404
    assert unknown.json()["status"] == 404
    bad_level = client.post(
        "/study_participants",
        params={"api_key": api_key, "study": STUDY, "id": "P1", "age_group": "12", "sex": "Male"},
    )
    assert bad_level.status_code == 400
    assert bad_level.json()["status"] == 400
    assert (
        client.get("/study_participants", params={"api_key": api_key, "study": STUDY}).json()[
            "results"
        ]
        == []
    )


def test_create_and_list_studies(reference):
    _client, _key, grove = reference
    defined = grove.settings.urn_studies
    created = create_study(
        grove.db,
        defined,
        "Vaccine trial",
        {"treatments": ["Placebo", "Vaccine"], "factors": {"site": ["North", "South"]}},
        who="test",
    )
    assert created.defined_in == "database"
    assert created.num_assigned == 0
    assert created.treatment_totals == {"Placebo": 0, "Vaccine": 0}
    names = [(s.name, s.defined_in) for s in list_studies(grove.db, defined)]
    assert names == [("My Study", "settings"), ("Vaccine trial", "database")]
    valid = {"treatments": ["A", "B"], "factors": {"x": ["1", "2"]}}
    with pytest.raises(Conflict, match="exists already"):
        create_study(grove.db, defined, "Vaccine trial", valid, who="test")
    with pytest.raises(Conflict, match=r"settings\.py"):
        create_study(grove.db, defined, STUDY, valid, who="test")
    with pytest.raises(InvalidArguments, match="treatments"):
        create_study(
            grove.db, defined, "Bad", {"treatments": ["A"], "factors": {"x": ["1"]}}, who="test"
        )
    with pytest.raises(InvalidArguments, match="name"):
        create_study(grove.db, defined, " padded ", valid, who="test")
    assert [s.name for s in list_studies(grove.db, defined)] == [STUDY, "Vaccine trial"]


def test_settings_urn_studies_are_checked_at_start(tmp_path):
    (tmp_path / "settings.py").write_text(
        "URN_STUDIES = {'T': dict(treatments=['A', 'B'], factors={'sex': ['M', 'F']}, D='x')}\n"
    )
    with pytest.raises(ConfigurationError, match=r"URN_STUDIES\['T'\]: urn D must be one of"):
        load_settings(tmp_path, {})
    other = tmp_path / "other"
    other.mkdir()
    (other / "settings.py").write_text("URN_STUDIES = ['T']\n")
    with pytest.raises(ConfigurationError, match="URN_STUDIES must be a dict"):
        load_settings(other, {})


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "GROVE_PROJECT_ROOT": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "server", "urn", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_creates_and_lists_studies(settings, tmp_path):
    config = tmp_path / "trial.json"
    config.write_text('{"treatments": ["A", "B"], "factors": {"sex": ["M", "F"]}}')
    created = _cli("create", "Trial 2", str(config), database_url=settings.database_url)
    assert created.returncode == 0, created.stderr
    assert "Created study 'Trial 2'" in created.stdout
    again = _cli("create", "Trial 2", str(config), database_url=settings.database_url)
    assert again.returncode == 1
    assert "exists already" in again.stderr
    bad = _cli("create", "Trial 3", '{"treatments": ["A"]}', database_url=settings.database_url)
    assert bad.returncode == 1
    assert "treatments" in bad.stderr
    listed = _cli("list", database_url=settings.database_url)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[1].split()[:2] == ["My", "Study"]
    assert "settings" in lines[1]
    assert lines[2].startswith("Trial 2")
    assert "database" in lines[2]


@pytest.fixture
def admin_api(settings):
    """The admin API with three keys: read, write and admin."""
    app = create_app(settings)
    keys = {}
    with app.state.grove.db.transaction() as db:
        for scope in ("read", "write", "admin"):
            keys[scope] = {"Authorization": f"Bearer {create_key(db, scope + 'er', scope)}"}
    with TestClient(app) as client:
        yield client, keys, app.state.grove
    app.state.grove.db.dispose()


TRIAL = {"treatments": ["Placebo", "Vaccine"], "factors": {"site": ["North", "South"]}}


def test_admin_api_lists_shows_and_creates_studies(admin_api):
    client, keys, _grove = admin_api
    listed = client.get("/admin/api/v1/studies/", headers=keys["read"])
    assert listed.status_code == 200, listed.text
    assert listed.json() == [
        {
            "name": STUDY,
            "treatments": ["Treatment A", "Treatment B"],
            "factors": {"age_group": ["18-40", "41-65", "65+"], "sex": ["Male", "Female"]},
            "num_assigned": 0,
            "treatment_totals": {"Treatment A": 0, "Treatment B": 0},
            "defined_in": "settings",
            "created_at": None,
        }
    ]
    created = client.post(
        "/admin/api/v1/studies",
        json={"name": "Vaccine trial", "config": TRIAL},
        headers=keys["write"],
    )
    assert created.status_code == 200, created.text
    assert created.json()["defined_in"] == "database"
    assert "starting_seed" not in created.text
    one = client.get("/admin/api/v1/study/Vaccine%20trial/", headers=keys["read"])
    assert one.status_code == 200
    assert one.json()["treatment_totals"] == {"Placebo": 0, "Vaccine": 0}
    # It randomizes over the urn API at once.
    drawn = client.post(
        "/study_participants",
        params={"study": "Vaccine trial", "id": "V1", "site": "North"},
        headers=keys["write"],
    )
    assert drawn.status_code == 200, drawn.text
    totals = client.get("/admin/api/v1/study/Vaccine trial", headers=keys["read"]).json()
    assert totals["num_assigned"] == 1
    assert sum(totals["treatment_totals"].values()) == 1


def test_admin_api_refuses_bad_study_requests_and_writes_nothing(admin_api):
    client, keys, grove = admin_api
    body = {"name": "Vaccine trial", "config": TRIAL}
    assert client.post("/admin/api/v1/studies/", json=body).status_code == 401
    refused = client.post("/admin/api/v1/studies/", json=body, headers=keys["read"])
    assert refused.status_code == 403
    assert "scope" in refused.json()["error"]
    for bad, field in (
        ({"name": "T"}, "config"),
        ({"name": "T", "config": {"treatments": ["A"], "factors": {"x": ["1"]}}}, "urn"),
        ({"name": "", "config": TRIAL}, "name"),
        ({"name": "T", "config": TRIAL, "seed": 1}, "seed"),
    ):
        answer = client.post("/admin/api/v1/studies/", json=bad, headers=keys["admin"])
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["ok"] is False
        assert field in answer.text
    taken = client.post(
        "/admin/api/v1/studies/", json={"name": STUDY, "config": TRIAL}, headers=keys["admin"]
    )
    assert taken.status_code == 409
    assert "URN_STUDIES" in taken.json()["error"]
    assert client.get("/admin/api/v1/study/Nope/", headers=keys["read"]).status_code == 404
    with grove.db.read() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(UrnStudy)) == 0


def test_only_an_admin_key_sees_the_seed(admin_api):
    client, keys, _grove = admin_api
    params = {"study": STUDY, "id": "P1", "age_group": "65+", "sex": "Male"}
    assert (
        client.post("/study_participants", params=params, headers=keys["write"]).status_code == 200
    )
    for scope in ("read", "write"):
        config = client.get("/study_config", params={"study": STUDY}, headers=keys[scope]).json()
        assert config["results"]["starting_seed"] is None
    config = client.get("/study_config", params={"study": STUDY}, headers=keys["admin"]).json()
    assert isinstance(config["results"]["starting_seed"], int)
