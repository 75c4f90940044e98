"""An unexpected error (a bug) on a participant page, an admin page or an API route: a 500
in the route family's shape (an HTML page, or JSON on the API) with the same security headers
as any other answer, and no traceback text in production; an unknown host's 400 has the
headers too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from tests.admin_pages import log_in, submit_form
from tests.conftest import create_demo_session

PARTICIPANT_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "SAMEORIGIN",
    "content-security-policy": "frame-ancestors 'self'",
}
ADMIN_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class Bug(RuntimeError):
    pass


def _raise_bug(*args: object, **kwargs: object) -> None:
    raise Bug("secret-detail-of-the-bug")


@pytest.fixture(params=["development", "production"])
def buggy_client(
    settings: Settings, request: pytest.FixtureRequest
) -> Iterator[tuple[TestClient, bool]]:
    production = request.param == "production"
    if production:
        settings = settings.with_changes(
            production=True, secret_key="p" * 40, admin_password="pw", rest_key="r" * 32
        )
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            if production:
                log_in(client, "pw")
            yield client, production
    finally:
        app.state.grove.db.dispose()


def _has(response, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        assert response.headers.get(name) == value, (name, response.headers)


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert "secret-detail-of-the-bug" not in text
    assert "Bug" not in text


def test_a_bug_on_a_participant_page(buggy_client, monkeypatch):
    client, production = buggy_client
    _code, links = create_demo_session(client, "survey")
    monkeypatch.setattr("server.participant_pages.show_page", _raise_bug)
    page = client.get(links[0])
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    _has(page, PARTICIPANT_HEADERS)
    assert "Server error" in page.text
    if production:
        _no_traceback(page.text)
    else:
        assert "Bug: secret-detail-of-the-bug" in page.text


def test_a_bug_on_an_admin_page(buggy_client, monkeypatch):
    client, production = buggy_client
    monkeypatch.setattr("server.web.admin_routes.list_sessions_page", _raise_bug)
    page = client.get("/sessions")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    _has(page, ADMIN_HEADERS)
    if production:
        _no_traceback(page.text)


def test_a_bug_in_an_api_route(buggy_client, monkeypatch):
    """Production says nothing of the bug; the devserver says what was raised (oTree 6.0.15's
    devserver answers a REST call whose app code raised with the traceback), so a script that
    creates sessions over REST learns that creating_session failed, and why."""
    client, production = buggy_client
    monkeypatch.setattr("server.rest.sessions.session_summaries", _raise_bug)
    answer = client.get("/api/sessions/", headers={"otree-rest-key": "r" * 32})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    error = body.pop("error")
    assert body == {"ok": False, "status": 500, "errors": []}
    if production:
        assert error == "internal server error"
    else:  # what was raised, and where (this file is in the test settings' project folder)
        assert error.startswith("internal server error: Bug: secret-detail-of-the-bug (in ")
        assert error.endswith(", in _raise_bug)")
    _has(answer, {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"})


def test_the_bug_is_logged_with_its_traceback_and_raised_to_the_server(
    settings, monkeypatch, caplog
):
    app = create_app(settings)
    try:
        monkeypatch.setattr("server.web.admin_routes.list_sessions_page", _raise_bug)
        with TestClient(app) as client, pytest.raises(Bug):
            client.get("/sessions")
    finally:
        app.state.grove.db.dispose()
    logged = [record for record in caplog.records if record.name == "grove"]
    assert any(
        record.exc_info and record.exc_info[0] is Bug and "/sessions" in record.getMessage()
        for record in logged
    )


def test_a_bug_after_the_login_changed_the_session_sets_no_cookie(buggy_client, monkeypatch):
    client, production = buggy_client
    if not production:
        pytest.skip("no admin password to log in with")
    client.cookies.clear()
    monkeypatch.setattr("server.web.admin_auth.RedirectResponse", _raise_bug)
    failed = submit_form(client, "/login", "/login", {"username": "admin", "password": "pw"})
    assert failed.status_code == 500
    _has(failed, ADMIN_HEADERS)
    assert "set-cookie" not in failed.headers


def test_not_found_and_domain_errors_keep_their_answers(client):
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    _has(missing, PARTICIPANT_HEADERS)
    api_missing = client.get("/api/sessions/nosuchsession")
    assert api_missing.status_code == 404
    assert api_missing.json()["ok"] is False
    not_allowed = client.delete("/demo")
    assert not_allowed.status_code == 405
    _has(not_allowed, ADMIN_HEADERS)


def test_an_unknown_hosts_400_has_the_security_headers(settings):
    app = create_app(settings.with_changes(allowed_hosts=("lab.example.org",)))
    try:
        with TestClient(app, base_url="http://evil.example") as client:
            refused = client.get("/demo")
            assert refused.status_code == 400
            _has(refused, ADMIN_HEADERS)
            refused = client.get("/p/abc")
            assert refused.status_code == 400
            _has(refused, PARTICIPANT_HEADERS)
    finally:
        app.state.grove.db.dispose()
