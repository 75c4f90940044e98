"""oTree's admin addresses an experimenter knows from oTree (``/ExportIndex``, the Data menu's
page; ``/ExportPageTimes``, its page-times download; ``/SessionSplitScreen/<code>``, a demo
session's split screen) lead to Grove's page for the same thing instead of a 404."""

from __future__ import annotations

import csv
import io

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import run_bots
from tests.admin_pages import log_in

PASSWORD = "paths-s3cret"


@pytest.fixture
def admin_settings(settings):
    return settings.with_changes(admin_password=PASSWORD)


@pytest.fixture
def admin(admin_settings):
    app = create_app(admin_settings)
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


def test_otree_admin_addresses_open_groves_pages(admin_settings, admin):
    [trust] = run_bots(admin_settings, "trust", database_url=admin_settings.database_url)
    assert trust.ok, trust.error
    code = trust.session_code

    # Still behind the login: the address leads to the login, never to the data.
    anonymous = admin.get("/ExportPageTimes")
    assert anonymous.url.path == "/login"
    assert "text/csv" not in anonymous.headers.get("content-type", "")

    log_in(admin, PASSWORD)
    index = admin.get("/ExportIndex")
    assert index.status_code == 200
    assert index.url.path == "/export"
    assert 'href="/export/page_times?format=csv"' in index.text

    times = admin.get("/ExportPageTimes")
    assert times.status_code == 200
    assert times.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(times.text)))
    assert rows
    assert {row["session_code"] for row in rows} == {code}
    assert rows[0]["page_name"] == "InitializeParticipant"
    excel = admin.get("/ExportPageTimes?format=csv_bom")
    assert excel.content.startswith(b"\xef\xbb\xbf")
    assert excel.content.decode("utf-8-sig") == times.text

    split = admin.get(f"/SessionSplitScreen/{code}")
    assert split.status_code == 200
    assert split.url.path == f"/SessionStartLinks/{code}"
    assert split.url.query == b"view=split"
    assert admin.get("/SessionSplitScreen/nosuchcode").status_code == 404
