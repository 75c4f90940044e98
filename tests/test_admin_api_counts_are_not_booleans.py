"""A count given as JSON's true or false is a 400, not 1 or 0: pydantic's lax int read
{"n_players": true} as one participant and created a session of one (a script's bug became a
session). Digits as text (a form, a query string) still count."""

from __future__ import annotations

import pytest

from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.rest_helpers import assert_error_shape

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api


@pytest.mark.parametrize("field", ["n_players", "num_participants"])
def test_true_is_no_number_of_participants(api, field):
    error = assert_error_shape(
        api.post(f"{V1}/sessions/", json={"config": "survey", field: True}, headers=ADMIN), 400
    )
    assert f"{field} must be an integer" in error["error"]
    listed = api.get(f"{V1}/sessions/", headers=ADMIN).json()
    assert listed["total"] == 0


def test_true_is_no_number_of_participants_in_a_room(api):
    answer = api.post(
        f"{V1}/room/econ101/session/", json={"config": "survey", "n_players": True}, headers=ADMIN
    )
    assert "n_players must be an integer" in assert_error_shape(answer, 400)["error"]


@pytest.mark.parametrize("field", ["page", "per_page"])
def test_true_is_no_page(api, field):
    # oTree's call_api sends parameters as a JSON body even on GET; Grove reads them there.
    refused = api.request("GET", f"{V1}/sessions/", json={field: True}, headers=ADMIN)
    assert f"{field} must be an integer" in assert_error_shape(refused, 400)["error"]


def test_digits_as_text_still_count(api):
    created = api.post(
        f"{V1}/sessions/", data={"config": "survey", "n_players": "2"}, headers=ADMIN
    )
    assert created.status_code == 200, created.text
    listed = api.get(f"{V1}/sessions/", params={"per_page": "1", "page": "1"}, headers=ADMIN)
    assert listed.status_code == 200, listed.text
