"""GET sessions/ with a scripter's edge cases: a page number too large for the database is a
400 (it was a 500: an offset past 64 bits), and created_since with a UTC offset means that
moment (on SQLite the offset was dropped: 10:00+05:00 filtered as 10:00 UTC)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.rest_helpers import assert_error_shape

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**63), "1000000001"])
def test_a_page_past_any_database_integer_is_400(api, page):
    error = assert_error_shape(
        api.get(f"{V1}/sessions/", params={"page": page}, headers=ADMIN), 400
    )
    assert "page" in error["error"]


def test_the_last_allowed_page_is_an_empty_page(api):
    answer = api.get(
        f"{V1}/sessions/", params={"page": 1_000_000_000, "per_page": 500}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["sessions"] == []


def test_created_since_with_an_offset_is_that_moment(api):
    created = api.post(f"{V1}/sessions/", json={"config": "survey", "n_players": 1}, headers=ADMIN)
    sname = created.json()["sname"]
    now = dt.datetime.now(dt.UTC)
    # The same moment, an hour ago, written in UTC+05:00: the session was created after it.
    an_hour_ago_east = (now - dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=5)))
    # An hour from now, written in UTC-05:00: nothing was created after it.
    in_an_hour_west = (now + dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=-5)))

    def snames(since: dt.datetime) -> list[str]:
        answer = api.get(
            f"{V1}/sessions/", params={"created_since": since.isoformat()}, headers=ADMIN
        )
        assert answer.status_code == 200, answer.text
        return [s["sname"] for s in answer.json()["sessions"]]

    assert snames(an_hour_ago_east) == [sname]
    assert snames(in_an_hour_west) == []


@pytest.mark.parametrize("since", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"])
def test_created_since_no_utc_time_can_hold_is_400(api, since):
    error = assert_error_shape(
        api.get(f"{V1}/sessions/", params={"created_since": since}, headers=ADMIN), 400
    )
    assert error["errors"][0]["field"] == "created_since"


@pytest.mark.parametrize(("path", "name"), [("sessions/", "created_since"), ("log/", "since")])
def test_epoch_seconds_are_seconds_however_large(api, path, name):
    # pydantic reads a number above 2e10 as milliseconds: 99999999999 (the year 5138 in
    # seconds) was 1973, and every session and change matched.
    api.post(f"{V1}/sessions/", json={"config": "survey", "n_players": 1}, headers=ADMIN)
    listed = "sessions" if path == "sessions/" else "entries"
    for since in ("99999999999", str(int(dt.datetime.now(dt.UTC).timestamp()) + 3600)):
        answer = api.get(f"{V1}/{path}", params={name: since}, headers=ADMIN)
        assert answer.status_code == 200, answer.text
        assert answer.json()[listed] == [], since
    an_hour_ago = int(dt.datetime.now(dt.UTC).timestamp()) - 3600
    answer = api.get(f"{V1}/{path}", params={name: an_hour_ago}, headers=ADMIN)
    assert len(answer.json()[listed]) == 1
    too_far = api.get(f"{V1}/{path}", params={name: "9" * 30}, headers=ADMIN)
    assert assert_error_shape(too_far, 400)["errors"][0]["field"] == name
