"""The admin API's data of one session: data/ (uproot's), data/csv/, data/json/ and
page-times/, as Grove's exports; read keys may, no key may not; unknown sessions and tables
are 404, bad queries 400."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from starlette.testclient import TestClient

from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.rest_helpers import assert_error_shape

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api
scoped = admin_api_helpers.scoped


@pytest.fixture
def session(api: TestClient) -> tuple[str, list[str]]:
    """A trust session of two, labelled, whose first participant has opened a page."""
    created = api.post(
        f"{V1}/sessions/", json={"config": "trust", "unames": ["ann", "bob"]}, headers=ADMIN
    )
    assert created.status_code == 200, created.text
    sname = created.json()["sname"]
    codes = [
        p["code"] for p in api.get(f"{V1}/session/{sname}", headers=ADMIN).json()["participants"]
    ]
    assert api.get(f"/InitializeParticipant/{codes[0]}").status_code == 200
    return sname, codes


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_data_csv_is_the_wide_table_as_a_download(api, scoped, session):
    sname, codes = session
    response = api.get(f"{V1}/session/{sname}/data/csv/", headers=scoped["read"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["grove-next-since"]
    rows = rows_of(response.text)
    assert [row["participant.code"] for row in rows] == codes
    assert [row["participant.label"] for row in rows] == ["ann", "bob"]
    with_bom = api.get(f"{V1}/session/{sname}/data/csv", params={"bom": "true"}, headers=ADMIN)
    assert with_bom.content.startswith(b"\xef\xbb\xbf")


def test_one_apps_table_and_json(api, session):
    sname, codes = session
    app_table = api.get(f"{V1}/session/{sname}/data/csv/", params={"table": "trust"}, headers=ADMIN)
    assert app_table.status_code == 200, app_table.text
    assert len(rows_of(app_table.text)) == 2
    as_json = api.get(f"{V1}/session/{sname}/data/json/", headers=ADMIN)
    assert as_json.headers["content-type"].startswith("application/json")
    body = as_json.json()
    assert [row["participant.code"] for row in body["rows"]] == codes
    assert "participant.code" in body["columns"]
    uproots = api.get(f"{V1}/session/{sname}/data/", headers=ADMIN).json()
    assert [row["participant.code"] for row in uproots["rows"]] == codes
    later = api.get(
        f"{V1}/session/{sname}/data/", params={"since": uproots["next_since"]}, headers=ADMIN
    ).json()
    assert later["rows"] == []  # nothing changed since


def test_page_times(api, session):
    sname, _ = session
    response = api.get(f"{V1}/session/{sname}/page-times/", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0].startswith("session_code")


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("data/csv/", {"format": "ultralong"}, 400),
        ("data/csv/", {"gvar": "x"}, 400),
        ("data/csv/", {"bom": "perhaps"}, 400),
        ("data/json/", {"table": "no_such_app"}, 404),
        ("data/", {"since": "yesterday-ish"}, 400),
        ("page-times/", {"x": "1"}, 400),
    ],
)
def test_bad_queries(api, session, path, query, status):
    sname, _ = session
    assert_error_shape(api.get(f"{V1}/session/{sname}/{path}", params=query, headers=ADMIN), status)


@pytest.mark.parametrize("path", ["data/", "data/csv/", "data/json/", "page-times/"])
def test_unknown_session_and_no_key(api, session, path):
    sname, _ = session
    assert_error_shape(api.get(f"{V1}/session/nope/{path}", headers=ADMIN), 404)
    assert_error_shape(api.get(f"{V1}/session/{sname}/{path}"), 401)


def test_since_with_a_utc_offset_is_that_moment(api, session):
    """An ISO since with an offset means that moment on SQLite too (its offset was dropped:
    an hour ago said in UTC+05:00 read as four hours ahead), as GET sessions/ and log/ read
    it; one no UTC time can hold is a 400 naming since."""
    sname, codes = session
    now = dt.datetime.now(dt.UTC)
    east, west = (dt.timezone(dt.timedelta(hours=h)) for h in (5, -5))

    def codes_since(moment: dt.datetime) -> list[str]:
        answer = api.get(
            f"{V1}/session/{sname}/data/", params={"since": moment.isoformat()}, headers=ADMIN
        )
        assert answer.status_code == 200, answer.text
        return [row["participant.code"] for row in answer.json()["rows"]]

    assert codes_since((now - dt.timedelta(hours=1)).astimezone(east)) == codes
    assert codes_since((now + dt.timedelta(hours=1)).astimezone(west)) == []
    for since in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"):
        answer = api.get(f"{V1}/session/{sname}/data/", params={"since": since}, headers=ADMIN)
        assert assert_error_shape(answer, 400)["errors"][0]["field"] == "since"
