"""The admin API's session configs: configs/ (apps and fields of each) and
configs/{cname}/summary/ (apps, rounds, group size, the multiple of participants)."""

from __future__ import annotations

from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.rest_helpers import assert_error_shape

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api
scoped = admin_api_helpers.scoped


def test_every_config_with_its_apps_and_fields(api, scoped):
    response = api.get(f"{V1}/configs/", headers=scoped["read"])
    assert response.status_code == 200, response.text
    configs = response.json()
    assert {"survey", "trust", "public_goods", "prisoner"} <= set(configs)
    trust = configs["trust"]
    assert [app["name"] for app in trust["apps"]] == ["trust", "payment_info"]
    assert trust["apps"][0]["players_per_group"] == 2
    assert trust["apps"][1]["players_per_group"] is None
    assert trust["multiple_of"] == 2
    fields = {field["name"]: field for field in trust["fields"]}
    assert fields["num_apples"] == {"name": "num_apples", "kind": "number", "value": 10}
    assert fields["participation_fee"]["kind"] == "number"
    assert "app_sequence" not in fields  # not changeable
    assert "abc" not in fields  # a list: the form offers no input for it


def test_summary(api):
    response = api.get(f"{V1}/configs/prisoner/summary", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "prisoner"
    prisoner = body["apps"][0]
    assert (prisoner["num_rounds"], prisoner["players_per_group"]) == (3, 2)
    assert prisoner["pages"]
    assert body["multiple_of"] == 2
    assert body["num_pages"] == 3 * len(prisoner["pages"]) + len(body["apps"][1]["pages"])
    assert "prisoner, 3 rounds, groups of 2" in body["summary"]
    assert "participation_fee" in body["settings"]
    public_goods = api.get(f"{V1}/configs/public_goods/summary/", headers=ADMIN).json()
    assert public_goods["multiple_of"] == 3


def test_unknown_config_and_no_key(api):
    error = assert_error_shape(api.get(f"{V1}/configs/nope/summary/", headers=ADMIN), 404)
    assert "nope" in error["error"]
    assert_error_shape(api.get(f"{V1}/configs/"), 401)
    assert_error_shape(api.get(f"{V1}/configs/trust/summary/"), 401)
    assert_error_shape(api.get(f"{V1}/configs/", params={"x": "1"}, headers=ADMIN), 400)
