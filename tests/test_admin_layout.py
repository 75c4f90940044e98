"""Who sees what: participant pages never show the admin navigation; with
OTREE_AUTH_LEVEL=DEMO the demo page is public and the rest behind the login; with STUDY
everything but participant pages and rooms is; the dev server's start-up line points to a page
open at the configured auth level."""

from __future__ import annotations

import argparse
import re

import pytest
import uvicorn
from starlette.testclient import TestClient

from server.app import create_app
from server.cli import server_commands
from tests.admin_pages import submit_form
from tests.conftest import REPO_ROOT, create_demo_session

ADMIN_LINKS = ('href="/sessions"', 'href="/rooms"', 'href="/apikeys"', 'class="grove-nav"')


def _assert_no_admin_bar(html: str, where: str) -> None:
    for link in ADMIN_LINKS:
        assert link not in html, f"{where} shows {link}"


def test_participant_pages_show_no_admin_bar(client):
    code = client.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 1, "room_name": "live_demo"},
    ).json()["code"]
    join_code = re.search(r"/join/(\w+)", client.get(f"/SessionStartLinks/{code}").text)[1]
    join = client.get(f"/join/{join_code}")
    assert join.status_code == 200
    _assert_no_admin_bar(join.text, "the join page")
    label_form = client.get("/room/econ101/")
    assert "participant_label" in label_form.text
    _assert_no_admin_bar(label_form.text, "the room's label form")
    start = client.get("/room/live_demo/")
    assert "Start" in start.text
    _assert_no_admin_bar(start.text, "the room's start page")
    with TestClient(client.app) as first, TestClient(client.app) as second:
        assert first.post("/room/live_demo/", follow_redirects=False).status_code == 303
        full = second.post("/room/live_demo/")
        assert full.status_code == 409
        assert "full" in full.text
        _assert_no_admin_bar(full.text, "the session-full page")
    waiting = client.post("/room/econ101/", data={"participant_label": "alice"})
    assert "Please wait" in waiting.text
    _assert_no_admin_bar(waiting.text, "the waiting page")
    missing = client.get("/InitializeParticipant/nosuchcode")
    assert missing.status_code == 404
    _assert_no_admin_bar(missing.text, "a participant's error page")
    _code, links = create_demo_session(client, "survey")
    first_page = client.get(links[0])
    assert first_page.status_code == 200
    _assert_no_admin_bar(first_page.text, "an app page")


def test_admin_pages_have_the_navigation_with_a_data_export_slot(client):
    for url in ("/sessions", "/sessions/create", "/rooms", "/apikeys"):
        html = client.get(url).text
        assert 'class="grove-nav"' in html, url
        assert '<a href="/export">Data export</a>' in html, url


@pytest.fixture
def demo_app(settings):
    app = create_app(settings.with_changes(auth_level="DEMO", admin_password="pw"))
    yield app
    app.state.grove.db.dispose()


def test_demo_level_keeps_the_demo_public_and_the_admin_behind_the_login(demo_app):
    with TestClient(demo_app, follow_redirects=False) as visitor:
        demo = visitor.get("/demo")
        assert demo.status_code == 200
        _assert_no_admin_bar(demo.text.replace('class="grove-nav"', ""), "the public demo page")
        # Creating a demo session is open to anyone here, token or not: CSRF would protect
        # nothing an attacker could not do directly.
        created = visitor.post("/demo/survey")
        assert created.status_code == 303
        links = visitor.get(created.headers["location"])
        assert links.status_code == 200
        assert "/InitializeParticipant/" in links.text
        assert "/delete" not in links.text
        assert "csrf_token" not in links.text
        for url in ("/sessions", "/sessions/create", "/rooms", "/apikeys"):
            response = visitor.get(url)
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/login"), url


def test_study_level_closes_everything_but_participant_pages_and_rooms(settings):
    app = create_app(settings.with_changes(auth_level="STUDY", admin_password="pw"))
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/demo").status_code == 403
        assert client.post("/demo/survey").status_code == 403
        assert client.get("/").headers["location"] == "/sessions"
        admin_pages = ["/sessions", "/sessions/create", "/rooms", "/apikeys"]
        for url in [*admin_pages, "/SessionStartLinks/x", "/SessionPayments/x"]:
            response = client.get(url)
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/login"), url
        assert client.get("/room/live_demo/").status_code == 200
        submit_form(client, "/login", "/login", {"username": "admin", "password": "pw"})
        assert client.get("/sessions").status_code == 200
        code = submit_form(
            client, "/sessions/create?config=survey", "/sessions/create", {"num_participants": "1"}
        ).headers["location"]
        assert client.get(code).status_code == 200
    app.state.grove.db.dispose()


@pytest.mark.parametrize(
    ("level", "path"), [(None, "/demo"), ("DEMO", "/demo"), ("STUDY", "/sessions")]
)
def test_the_start_up_line_points_to_a_page_open_at_the_auth_level(
    settings, monkeypatch, capsys, level, path
):
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: None)
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(REPO_ROOT))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.delenv("OTREE_PRODUCTION", raising=False)
    if level:
        monkeypatch.setenv("OTREE_AUTH_LEVEL", level)
        monkeypatch.setenv("OTREE_ADMIN_PASSWORD", "pw")
    else:
        monkeypatch.delenv("OTREE_AUTH_LEVEL", raising=False)
    args = argparse.Namespace(port=8123, host="127.0.0.1", reload=False)
    assert server_commands.devserver(args) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Grove running"))
    assert line == f"Grove running: open http://127.0.0.1:8123{path}"
    app = create_app(settings.with_changes(auth_level=level, admin_password="pw" if level else ""))
    with TestClient(app) as browser:  # following the login redirect, as a browser does
        assert browser.get(path).status_code == 200
    app.state.grove.db.dispose()


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example/", "/\t/evil.example/", "https://evil.example/"]
)
def test_after_login_and_actions_the_admin_stays_on_this_server(settings, target):
    app = create_app(settings.with_changes(admin_password="pw"))
    with TestClient(app, follow_redirects=False) as client:
        login_page = client.get("/login", params={"next": target})
        assert target not in login_page.text
        logged_in = client.post(
            "/login", data={"username": "admin", "password": "pw", "next": target}
        )
        assert logged_in.headers["location"] == "/sessions"
        code = client.post(
            "/api/sessions/", json={"session_config_name": "survey", "num_participants": 1}
        ).json()["code"]
        archived = submit_form(client, "/sessions", f"/sessions/{code}/archive", {"next": target})
        assert archived.headers["location"] == "/sessions"
    app.state.grove.db.dispose()
