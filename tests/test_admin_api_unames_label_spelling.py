"""Participants' actions find a participant by label as everything else in Grove does:
surrounding whitespace is not part of a label (' ABC ' names 'ABC', as in a room and as
POST sessions/ refuses ['a', ' a'] as one label given twice). Before, ' ABC ' named nobody
and the action was a 404."""

from __future__ import annotations

from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api


def test_a_label_with_surrounding_whitespace_names_its_participant(api):
    body = {"config": "trust", "n_players": 2, "sname": "s1", "unames": ["ABC", "DEF"]}
    assert api.post(f"{V1}/sessions/", json=body, headers=ADMIN).status_code == 200
    codes = {
        p["label"]: p["code"]
        for p in api.get(f"{V1}/session/s1/", headers=ADMIN).json()["participants"]
    }
    answer = api.post(
        f"{V1}/session/s1/players/advance/", json={"unames": [" ABC ", "DEF\n"]}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["advanced"] == [codes["ABC"], codes["DEF"]]
    assert answer.json()["skipped"] == []
    # Case still matters, and a code is matched exactly.
    other = api.post(
        f"{V1}/session/s1/players/reload/",
        json={"unames": ["abc", f" {codes['ABC']} "]},
        headers=ADMIN,
    )
    assert other.status_code == 404, other.text
