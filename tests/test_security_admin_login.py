"""The admin login: throttled per client and per username (across workers, in the database);
logout and a new admin password void a cookie; the Secure flag follows the scheme, so a lab
server on plain http logs in instead of looping back to the login page."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.admin_logins import ATTEMPTS_PER_CLIENT, ATTEMPTS_PER_USERNAME, WINDOW_SECONDS
from server.app import create_app
from server.config import Settings
from tests import databases
from tests.admin_pages import submit_form
from tests.databases import BOTH
from tests.live_server import live_server

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin_settings(settings: Settings) -> Settings:
    return settings.with_changes(admin_password=PASSWORD)


@pytest.fixture
def admin_app(admin_settings: Settings) -> Iterator[Starlette]:
    app = create_app(admin_settings)
    yield app
    app.state.grove.db.dispose()


def _client(app: Starlette, address: str = "10.0.0.1", base_url: str = "http://testserver"):
    return TestClient(app, client=(address, 40000), base_url=base_url, follow_redirects=False)


def _log_in(client: TestClient, password: str = PASSWORD, username: str = "admin"):
    return client.post(
        "/login", data={"username": username, "password": password, "next": "/sessions"}
    )


def _is_admin(client: TestClient) -> bool:
    response = client.get("/sessions")
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


def test_the_admin_cookie_counts_when_each_cookie_comes_in_a_header_of_its_own(admin_app):
    """A browser over HTTP/2, and nginx before 1.23, send each cookie in a Cookie header of
    its own: the admin stays logged in whichever header holds the admin cookie."""
    with _client(admin_app) as admin:
        assert _log_in(admin).status_code == 303
        admin_cookie = admin.cookies["grove_admin"]
    with _client(admin_app) as browser:
        split = [("cookie", "theme=dark"), ("cookie", f"grove_admin={admin_cookie}")]
        assert browser.get("/sessions", headers=split).status_code == 200
    with _client(admin_app) as stranger:
        assert stranger.get("/sessions", headers=[("cookie", "theme=dark")]).status_code == 303


def test_wrong_passwords_are_throttled_per_client(admin_app):
    with _client(admin_app, "10.0.0.1") as guesser:
        statuses = [_log_in(guesser, f"guess{i}").status_code for i in range(ATTEMPTS_PER_CLIENT)]
        assert statuses == [401] * ATTEMPTS_PER_CLIENT
        throttled = _log_in(guesser, "guess-again")
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["retry-after"]) <= 2 * WINDOW_SECONDS
        assert "Too many login attempts" in throttled.text
        # Even the right password waits: a guess that happens to be right is not revealed.
        assert _log_in(guesser).status_code == 429
        assert not _is_admin(guesser)
    with _client(admin_app, "10.0.0.2") as admin:  # another client is not held up
        assert _log_in(admin).status_code == 303
        assert _is_admin(admin)


def test_guesses_for_one_username_from_many_clients_are_throttled(admin_app):
    """Past the username's limit a client that has guessed before is refused; a client's
    first attempt is still checked, so the real admin is not locked out by the guessers (an
    attack kept the admin out with one wrong password every two seconds)."""
    first, second = [], []
    for number in range(ATTEMPTS_PER_USERNAME):
        with _client(admin_app, f"10.1.{number // 250}.{number % 250}") as client:
            first.append(_log_in(client, f"guess{number}").status_code)
            second.append(_log_in(client, f"guess{number}b").status_code)
    assert first == [401] * ATTEMPTS_PER_USERNAME
    allowed = ATTEMPTS_PER_USERNAME // 2  # the username's count passes the limit halfway
    assert second == [401] * allowed + [429] * (ATTEMPTS_PER_USERNAME - allowed)
    with _client(admin_app, "10.2.0.1") as admin:
        assert _log_in(admin).status_code == 303
        assert _is_admin(admin)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_200_concurrent_guesses_on_two_workers_get_at_most_the_limit_through(tmp_path, backend):
    """The issue's attack: 200 wrong passwords as fast as possible, spread over two worker
    processes; the count lives in the database, so both workers refuse past the limit."""
    database_url = databases.database_url(tmp_path, "throttle", backend)
    with live_server(database_url, workers=2, extra_env={"OTREE_ADMIN_PASSWORD": PASSWORD}) as base:

        def guess(number: int) -> int:
            with httpx.Client(base_url=base, timeout=60) as client:
                return client.post(
                    "/login", data={"username": "admin", "password": f"guess{number}"}
                ).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = Counter(pool.map(guess, range(200)))
    assert set(statuses) == {401, 429}, statuses
    assert statuses[401] <= ATTEMPTS_PER_CLIENT, statuses


def test_logout_voids_every_copy_of_the_cookie(admin_app):
    with _client(admin_app) as admin:
        assert _log_in(admin).status_code == 303
        cookie = admin.cookies["grove_admin"]
        assert _is_admin(admin)
        assert submit_form(admin, "/logout", "/logout").status_code == 303
        assert not _is_admin(admin)
    with _client(admin_app) as copy:  # e.g. a stolen cookie, kept from before the logout
        copy.cookies.set("grove_admin", cookie)
        assert not _is_admin(copy)


def test_another_login_is_not_ended_by_a_logout(admin_app):
    with _client(admin_app) as first, _client(admin_app) as second:
        assert _log_in(first).status_code == 303
        assert _log_in(second).status_code == 303
        submit_form(first, "/logout", "/logout")
        assert not _is_admin(first)
        assert _is_admin(second)


def test_a_new_admin_password_voids_existing_cookies(admin_settings):
    old = create_app(admin_settings)
    with _client(old) as admin:
        assert _log_in(admin).status_code == 303
        cookie = admin.cookies["grove_admin"]
        assert _is_admin(admin)
    # The server restarts with a new OTREE_ADMIN_PASSWORD, on the same database and key.
    new = create_app(admin_settings.with_changes(admin_password="a new password"))
    try:
        with _client(new) as client:
            client.cookies.set("grove_admin", cookie)
            assert not _is_admin(client)
            assert _log_in(client, "a new password").status_code == 303
            assert _is_admin(client)
    finally:
        old.state.grove.db.dispose()
        new.state.grove.db.dispose()


def test_a_forged_or_old_style_cookie_is_no_login(admin_app, admin_settings):
    import base64
    import json

    from itsdangerous import TimestampSigner

    for payload in ({"admin": True}, {"admin_login": "x" * 43}):
        data = base64.b64encode(json.dumps(payload).encode())
        forged = TimestampSigner(admin_settings.secret_key).sign(data).decode()
        with _client(admin_app) as client:
            client.cookies.set("grove_admin", forged)
            assert not _is_admin(client), payload


@pytest.mark.parametrize(
    ("base_url", "secure"), [("http://testserver", False), ("https://testserver", True)]
)
def test_the_secure_flag_follows_the_scheme(admin_app, base_url, secure):
    with _client(admin_app, base_url=base_url) as admin:
        response = _log_in(admin)
        assert response.status_code == 303
        set_cookie = response.headers["set-cookie"].lower()
        assert ("; secure" in set_cookie) is secure
        assert "samesite=lax" in set_cookie
        assert "httponly" in set_cookie
        assert _is_admin(admin)


def test_production_over_plain_http_logs_in_and_warns(admin_settings, caplog):
    app = create_app(admin_settings.with_changes(production=True, secret_key="p" * 40))
    try:
        with _client(app) as admin, caplog.at_level(logging.WARNING, logger="grove"):
            response = _log_in(admin)
            assert response.status_code == 303
            assert response.headers["location"] == "/sessions"
            assert _is_admin(admin)  # no loop back to the login page
        assert any("plain http in production" in r.getMessage() for r in caplog.records)
    finally:
        app.state.grove.db.dispose()


def test_a_cookie_set_secure_on_plain_http_is_explained_not_looped(admin_settings):
    app = create_app(admin_settings.with_changes(secure_cookies=True))
    try:
        with _client(app) as admin:
            response = _log_in(admin)
            assert response.status_code == 400
            assert "https" in response.text
            assert "GROVE_SECURE_COOKIES" in response.text
            assert "set-cookie" not in response.headers
        with _client(app, base_url="https://testserver") as admin:
            assert _log_in(admin).status_code == 303
            assert _is_admin(admin)
    finally:
        app.state.grove.db.dispose()


def test_the_count_carries_over_into_the_next_minute(admin_app, admin_settings):
    """Ten guesses in the last second of a minute do not buy ten more a second later."""
    from server.admin_logins import LoginThrottled, log_in

    db = admin_app.state.grove.db
    start = 1_000 * WINDOW_SECONDS - 1  # one second before a minute ends
    for number in range(ATTEMPTS_PER_CLIENT):
        outcome = log_in(
            db,
            admin_settings,
            client="10.9.9.9",
            username="admin",
            password=f"g{number}",
            now=start + number * 0.05,
        )
        assert outcome.login_id is None
    with pytest.raises(LoginThrottled) as throttled:
        log_in(db, admin_settings, client="10.9.9.9", username="admin", password="g", now=start + 2)
    assert throttled.value.retry_after == WINDOW_SECONDS - 1
    right = log_in(
        db,
        admin_settings,
        client="10.9.9.9",
        username="admin",
        password=PASSWORD,
        now=start + 1 + 2 * WINDOW_SECONDS,
    )
    assert right.login_id is not None  # two minutes later the client may try again
