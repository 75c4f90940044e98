"""PATCH session/<sname>/settings/ refuses a field the session's config does not have: a
misspelt {"particpation_fee": 3} was stored beside the real fee, answered 200, and the fee
stayed as it was. Nothing is written on the refusal; the real fields still change. A list
field stays a list (oTree's example config abc=[1, 2, 3] took the text "x")."""

from __future__ import annotations

from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.rest_helpers import assert_error_shape

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api


def test_a_misspelt_field_is_refused_and_nothing_changes(api):
    made = api.post(f"{V1}/sessions/", json={"config": "trust", "n_players": 2}, headers=ADMIN)
    sname = made.json()["sname"]
    url = f"{V1}/session/{sname}/settings/"
    before = api.get(f"{V1}/session/{sname}/", headers=ADMIN).json()["settings"]
    body = {"settings": {"num_apples": 4, "particpation_fee": 3}}
    error = assert_error_shape(api.patch(url, json=body, headers=ADMIN), 400)
    assert "no field 'particpation_fee'" in error["error"]
    assert "participation_fee" in error["error"]  # the fields it has are named
    assert error["errors"][0]["field"] == "settings.particpation_fee"
    after = api.get(f"{V1}/session/{sname}/", headers=ADMIN).json()["settings"]
    assert after == before
    changed = api.patch(url, json={"settings": {"participation_fee": 3}}, headers=ADMIN)
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"]["participation_fee"] == 3
    assert "particpation_fee" not in changed.json()["settings"]


def test_a_list_field_stays_a_list(api):
    made = api.post(f"{V1}/sessions/", json={"config": "trust", "n_players": 2}, headers=ADMIN)
    url = f"{V1}/session/{made.json()['sname']}/settings/"
    error = assert_error_shape(api.patch(url, json={"settings": {"abc": "x"}}, headers=ADMIN), 400)
    assert "abc must be a list, like its value [1, 2, 3]" in error["error"]
    changed = api.patch(url, json={"settings": {"abc": [4, 5]}}, headers=ADMIN)
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"]["abc"] == [4, 5]
