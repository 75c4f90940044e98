"""A standalone urn study must be usable where it is meant to be used: a factor named after
one of the urn API's own parameters (id, study, api_key) could never get a level on
POST /study_participants, and a study name with '/' could not be addressed as
study/<name>/; both are refused when the study is created (admin API, settings), with nothing
written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from server.config import load_settings
from server.errors import ConfigurationError
from server.models.urn import UrnStudy

STUDIES = "/admin/api/v1/studies/"


@pytest.fixture
def admin(settings):
    app = create_app(settings)
    with app.state.grove.db.transaction() as db:
        headers = {"Authorization": f"Bearer {create_key(db, 'trialist', 'admin')}"}
    with TestClient(app) as client:
        yield client, headers, app.state.grove
    app.state.grove.db.dispose()


@pytest.mark.parametrize("factor", ["id", "study", "api_key"])
def test_a_factor_named_like_an_urn_api_parameter_is_refused(admin, factor):
    client, headers, grove = admin
    config = {"treatments": ["A", "B"], "factors": {factor: ["x", "y"]}}
    answer = client.post(STUDIES, json={"name": "T", "config": config}, headers=headers)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["ok"] is False
    assert repr(factor) in body["error"]
    assert "rename it" in body["error"]
    with grove.db.read() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(UrnStudy)) == 0


def test_a_study_name_with_a_slash_is_refused_and_others_are_reachable(admin):
    client, headers, grove = admin
    config = {"treatments": ["A", "B"], "factors": {"site": ["N", "S"]}}
    refused = client.post(STUDIES, json={"name": "Vaccine/2026", "config": config}, headers=headers)
    assert refused.status_code == 400
    assert "'/'" in refused.json()["error"]
    with grove.db.read() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(UrnStudy)) == 0
    name = "Vaccine trial #2 (2026)?"
    created = client.post(STUDIES, json={"name": name, "config": config}, headers=headers)
    assert created.status_code == 200, created.text
    shown = client.get(
        f"/admin/api/v1/study/{name.replace('#', '%23').replace('?', '%3F')}/", headers=headers
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["name"] == name


def test_urn_studies_in_settings_are_checked_the_same_way(tmp_path):
    (tmp_path / "settings.py").write_text(
        "URN_STUDIES = {'T': dict(treatments=['A', 'B'], factors={'id': ['1', '2']})}\n"
    )
    with pytest.raises(ConfigurationError, match=r"URN_STUDIES\['T'\]: factor 'id'"):
        load_settings(tmp_path, {})
