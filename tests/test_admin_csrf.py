"""Every state-changing admin request is refused (403, the database unchanged) without a login,
without the CSRF token, with a wrong one, and with the token of an earlier login; and done with
the token the page rendered. Each action is submitted from the form its page renders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import parse_forms
from server.config import Settings
from tests import databases
from tests.admin_pages import database_snapshot, form_with_action, log_in, submit_form

# slow: every admin action x every refusal, each against a database snapshot.
pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Action:
    """An admin action: the page that shows its form, the form's action, what is typed."""

    name: str
    page: str
    action: str
    values: dict[str, Any] = field(default_factory=dict)


ACTIONS = [
    Action("create session", "/sessions/create?config=trust", "/sessions/create"),
    Action(
        "edit description",
        "/SessionStartLinks/{code}",
        "/sessions/{code}/description",
        {"description": "pilot, do not pay"},
    ),
    Action("archive", "/SessionStartLinks/{code}", "/sessions/{code}/archive"),
    Action("archive from the list", "/sessions", "/sessions/{code}/archive"),
    Action("delete", "/sessions/{code}/delete", "/sessions/{code}/delete"),
    Action("create API key", "/apikeys", "/apikeys", {"user": "alice"}),
    Action("regenerate API key", "/apikeys", "/apikeys/bob/regenerate"),
    Action("revoke API key", "/apikeys", "/apikeys/bob/revoke"),
    Action("set API key scope", "/apikeys", "/apikeys/bob/scope", {"scope": "read"}),
    Action("create session in room", "/rooms", "/rooms/live_demo"),
    Action("close room", "/rooms", "/rooms/econ101"),
    Action("log out", "/logout", "/logout"),
]


@dataclass
class Admin:
    app: Starlette
    engine: sa.Engine
    code: str

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)


@pytest.fixture
def admin(settings: Settings) -> Iterator[Admin]:
    """A password-protected server with a session, a room with a session (econ101) and bob's
    API key, all made through the admin pages."""
    app = create_app(settings.with_changes(admin_password=PASSWORD))
    engine = databases.engine(settings.database_url)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, PASSWORD)
        created = submit_form(
            client, "/sessions/create?config=trust", "/sessions/create", {"num_participants": "2"}
        )
        assert created.status_code == 303, created.text
        code = created.headers["location"].rsplit("/", 1)[-1]
        in_room = submit_form(
            client, "/rooms", "/rooms/econ101", {"config": "survey", "num_participants": "1"}
        )
        assert in_room.status_code == 303, in_room.text
        assert submit_form(client, "/apikeys", "/apikeys", {"user": "bob"}).status_code == 200
    yield Admin(app, engine, code)
    engine.dispose()
    app.state.grove.db.dispose()


def _urls(action: Action, code: str) -> tuple[str, str]:
    return action.page.format(code=code), action.action.format(code=code)


def _still_logged_in(client: TestClient) -> bool:
    return client.get("/sessions").status_code == 200


def _assert_refused(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert "nothing was changed" in response.text


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
@pytest.mark.parametrize("token", ["missing", "wrong", "of an earlier login"])
def test_an_action_without_its_csrf_token_is_refused(admin, action, token):
    page, target = _urls(action, admin.code)
    with admin.client() as client:
        log_in(client, PASSWORD)
        forged: str | None = None
        if token == "wrong":
            forged = "A" * 43
        elif token == "of an earlier login":
            html = client.get(page).text
            forged = dict(form_with_action(html, target).submission())["csrf_token"]
            assert re.fullmatch(r"[\w-]{40,}", forged), forged
            submit_form(client, "/logout", "/logout")
            log_in(client, PASSWORD)
        before = database_snapshot(admin.engine)
        _assert_refused(submit_form(client, page, target, action.values, csrf_token=forged))
        assert database_snapshot(admin.engine) == before
        assert _still_logged_in(client)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_an_action_without_a_login_is_refused(admin, action):
    page, target = _urls(action, admin.code)
    with admin.client() as client:
        log_in(client, PASSWORD)
        pairs = form_with_action(client.get(page).text, target).submission(action.values)
    before = database_snapshot(admin.engine)
    with admin.client() as stranger:  # another browser: no login, no token
        _assert_refused(stranger.post(target, data=dict(pairs)))
    with admin.client() as visitor:  # a token of its own (the log-out page), but no login
        own = form_with_action(visitor.get("/logout").text, "/logout").submission()
        data = {**dict(pairs), "csrf_token": dict(own)["csrf_token"]}
        response = visitor.post(target, data=data)
        if action.action == "/logout":
            assert response.status_code == 303  # logging out without a login does nothing
        else:
            _assert_refused(response)
            assert "not logged in" in response.text
    assert database_snapshot(admin.engine) == before


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_an_action_with_the_pages_token_is_done(admin, action):
    page, target = _urls(action, admin.code)
    with admin.client() as client:
        log_in(client, PASSWORD)
        before = database_snapshot(admin.engine)
        response = submit_form(client, page, target, action.values)
        assert response.status_code in (200, 303), response.text
        if action.action == "/logout":
            assert response.headers["location"] == "/login"
            assert not _still_logged_in(client)
        else:
            assert database_snapshot(admin.engine) != before


def test_logout_by_get_only_shows_the_button(admin):
    with admin.client() as client:
        log_in(client, PASSWORD)
        page = client.get("/logout")
        assert page.status_code == 200
        assert _still_logged_in(client)


def test_every_admin_page_form_carries_the_token(admin):
    with admin.client() as client:
        log_in(client, PASSWORD)
        pages = ["/sessions", "/sessions/create?config=trust", "/rooms", "/apikeys", "/logout"]
        pages += [f"/SessionStartLinks/{admin.code}", f"/sessions/{admin.code}/delete"]
        for url in pages:
            for form in parse_forms(client.get(url).text):
                if (form.attributes.get("method") or "get").lower() == "post":
                    assert "csrf_token" in form.names(), (url, form.action)
