"""The admin's Data export page: behind the login, a link per export and format, each link a
streamed download of what the bots entered."""

from __future__ import annotations

import csv
import io
import re

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import run_bots
from tests.admin_pages import log_in

PASSWORD = "export-s3cret"


@pytest.fixture
def admin_settings(settings):
    return settings.with_changes(admin_password=PASSWORD)


@pytest.fixture
def admin(admin_settings):
    app = create_app(admin_settings)
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


def test_export_page_and_downloads_need_the_login(admin):
    for path in ("/export", "/export/all_apps_wide", "/export/trust/custom_export"):
        response = admin.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
        assert "text/csv" not in response.headers.get("content-type", "")


def test_export_page_links_download_the_bots_values(admin_settings, admin):
    [trust] = run_bots(admin_settings, "trust", database_url=admin_settings.database_url)
    assert trust.ok, trust.error
    log_in(admin, PASSWORD)
    page = admin.get("/export")
    assert page.status_code == 200
    assert "<script" not in page.text  # the admin pages' CSP allows no inline script
    links = re.findall(r'href="(/export/[^"]+)"', page.text)
    for table in ("all_apps_wide", "trust", "survey", "page_times", "chat", "urn_assignments"):
        for kind in ("csv", "csv_bom", "json"):
            assert f"/export/{table}?format={kind}" in links
    assert "/export/trust/custom_export?format=csv" in links

    # The session filter: the page's links carry the chosen session.
    filtered = admin.get(f"/export?session={trust.session_code}").text
    assert f"/export/trust?format=csv&amp;session={trust.session_code}" in filtered

    rows = list(csv.DictReader(io.StringIO(admin.get("/export/trust?format=csv").text)))
    assert [
        (r["player.role"], r["group.sent_amount"], r["group.sent_back_amount"]) for r in rows
    ] == [
        ("Trustor", "40.0", "50.0"),
        ("Trustee", "40.0", "50.0"),
    ]
    excel = admin.get(f"/export/all_apps_wide?format=csv_bom&session={trust.session_code}")
    assert excel.content.startswith(b"\xef\xbb\xbf")
    assert excel.headers["content-disposition"].startswith("attachment;")
    wide = list(csv.DictReader(io.StringIO(excel.content.decode("utf-8-sig"))))
    assert [r["trust.1.player.payoff"] for r in wide] == ["110.0", "70.0"]
    custom = admin.get("/export/trust/custom_export?format=json").json()
    assert [row["sent_amount"] for row in custom["rows"]] == [40, 40]
    assert admin.get("/export/no_such_table").status_code == 404
    assert admin.get("/export/trust?format=xls").status_code == 400


def test_otrees_admin_export_paths_download_the_same_behind_the_login(admin_settings, admin):
    # oTree 6's admin links (its Data page /ExportIndex, and /ExportWide, /ExportPageTimes,
    # /ExportChat with ?format=csv_bom and ?session_code=) work where an admin bookmarked them.
    oTree_paths = ("/ExportIndex", "/ExportWide", "/ExportPageTimes", "/ExportChat")
    for path in oTree_paths:
        response = admin.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    [trust] = run_bots(admin_settings, "trust", database_url=admin_settings.database_url)
    assert trust.ok, trust.error
    log_in(admin, PASSWORD)
    index = admin.get("/ExportIndex", follow_redirects=False)
    assert (index.status_code, index.headers["location"]) == (303, "/export")
    code = trust.session_code
    for otree_path, grove_path, name in [
        (
            f"/ExportWide?session_code={code}",
            f"/export/all_apps_wide?session={code}",
            "all_apps_wide",
        ),
        ("/ExportPageTimes", "/export/page_times", "PageTimes"),
        (f"/ExportChat?session_code={code}", f"/export/chat?session={code}", "ChatMessages"),
    ]:
        response = admin.get(otree_path)
        assert response.status_code == 200, otree_path
        assert response.text == admin.get(grove_path).text, otree_path
        assert re.fullmatch(
            rf'attachment; filename="{name}-\d{{4}}-\d\d-\d\d\.csv"',
            response.headers["content-disposition"],
        )
    with_bom = admin.get("/ExportWide?format=csv_bom")
    assert with_bom.content.decode("utf-8").startswith("\ufeffparticipant.id_in_session,")
    assert admin.get("/ExportWide?format=json").status_code == 400
    assert admin.get("/ExportWide?session_code=nosuchsession").status_code == 404
