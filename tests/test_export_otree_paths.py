"""oTree 6's REST export paths (``/api/export_wide``, ``/api/export_app``,
``/api/export_app_custom``, ``/api/export_page_times``, ``/api/export_chat``, with
``session_code``, ``app``, ``function_name`` and ``format=csv_bom``): a script written for
oTree pulls the same CSV as from Grove's ``/api/export/...``."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests.rest_helpers import HEADERS, REST_KEY, assert_error_shape
from tests.test_export import csv_rows, play

BOM = "\ufeff"


@pytest.fixture
def keyed(settings):
    return settings.with_changes(rest_key=REST_KEY)


@pytest.fixture
def api(keyed):
    app = create_app(keyed)
    with TestClient(app) as client:
        client.headers.update(HEADERS)
        yield client
    app.state.grove.db.dispose()


def test_otree_export_paths_answer_grove_exports(keyed, api):
    [trust] = play(keyed, "trust")
    play(keyed, "survey")  # other sessions, which session_code leaves out
    pairs = [
        (f"/api/export_wide?session_code={trust}", f"/api/export/all_apps_wide?session={trust}"),
        (f"/api/export_app?app=trust&session_code={trust}", f"/api/export/trust?session={trust}"),
        (
            f"/api/export_app_custom?app=trust&session_code={trust}",
            f"/api/export/trust/custom_export?session={trust}",
        ),
        (
            f"/api/export_page_times?session_code={trust}",
            f"/api/export/page_times?session={trust}",
        ),
        (f"/api/export_chat?session_code={trust}", f"/api/export/chat?session={trust}"),
        ("/api/export_app?app=survey", "/api/export/survey"),
    ]
    for otree_path, grove_path in pairs:
        rows = csv_rows(api.get(otree_path))
        assert rows == csv_rows(api.get(grove_path)), otree_path
    wide = csv_rows(api.get(f"/api/export_wide?session_code={trust}"))
    assert {row["session.code"] for row in wide} == {trust}
    assert len(wide) == 2
    custom = csv_rows(api.get(f"/api/export_app_custom?app=trust&session_code={trust}"))
    assert [row["role"] for row in custom] == ["Trustor", "Trustee"]
    # The download is named after the app as well (oTree: trust_custom_export-<date>.csv), so
    # two apps' custom exports do not download under one name.
    disposition = api.get(f"/api/export/trust/custom_export?session={trust}").headers[
        "content-disposition"
    ]
    assert disposition.startswith(f'attachment; filename="trust_custom_export_{trust}_')
    named = api.get(
        f"/api/export_app_custom?app=trust&function_name=custom_export&session_code={trust}"
    )
    assert csv_rows(named) == custom
    with_bom = api.get(f"/api/export_wide?session_code={trust}&format=csv_bom")
    assert with_bom.status_code == 200
    assert with_bom.content.decode("utf-8").startswith(BOM + "participant.id_in_session,")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/export_app", 400),  # oTree's app is required
        ("/api/export_app?app=no_such_app", 404),
        ("/api/export_app_custom?app=trust&function_name=nope", 404),
        ("/api/export_wide?session_code=nosuchsession", 404),
        ("/api/export_wide?format=xlsx", 400),
    ],
)
def test_bad_otree_export_requests(api, path, status):
    assert_error_shape(api.get(path), status)


def test_otree_export_paths_need_the_key(keyed):
    app = create_app(keyed)
    with TestClient(app) as client:
        for path in ("/api/export_wide", "/api/export_app?app=trust", "/api/export_page_times"):
            assert_error_shape(client.get(path), 403)
    app.state.grove.db.dispose()


def test_otree_export_paths_download_under_otrees_file_names(keyed, api):
    # oTree 6 names each download <name>-<date>.csv (views/export.py), with or without
    # session_code; a script that saves the server's name (curl -OJ, wget
    # --content-disposition) and then opens PageTimes-*.csv finds the file on Grove too.
    [trust] = play(keyed, "trust")
    for path, stem in [
        ("/api/export_wide", "all_apps_wide"),
        (f"/api/export_wide?session_code={trust}&format=csv_bom", "all_apps_wide"),
        ("/api/export_app?app=trust", "trust"),
        (f"/api/export_app_custom?app=trust&session_code={trust}", "trust_custom_export"),
        ("/api/export_page_times", "PageTimes"),
        (f"/api/export_chat?session_code={trust}", "ChatMessages"),
    ]:
        before = dt.datetime.now(dt.UTC).date()
        response = api.get(path)
        after = dt.datetime.now(dt.UTC).date()
        assert response.status_code == 200, response.text
        assert response.headers["content-disposition"] in {
            f'attachment; filename="{stem}-{day.isoformat()}.csv"' for day in (before, after)
        }, path
