"""Security headers: admin pages allow only Grove's own files; participant pages keep oTree's
inline scripts working and may be framed only by Grove itself (the admin's split view); every
answer says nosniff; unknown hosts are refused when hosts are named."""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient, WebSocketDenialResponse

from server.app import create_app
from server.models.core import Participant
from tests import databases
from tests.conftest import create_demo_session
from tests.live_server import live_server

STRICT = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _admin_pages(client: TestClient) -> list[str]:
    code, _links = create_demo_session(client, "trust")
    return [
        "/demo",
        "/sessions",
        "/rooms",
        "/login",
        f"/SessionStartLinks/{code}",
        f"/SessionStartLinks/{code}?view=split",
        f"/SessionPayments/{code}",
        f"/sessions/{code}/delete",
        "/sessions/create?config=trust",
        "/apikeys",
        "/logout",
        "/export",
        f"/SessionMonitor/{code}",
        f"/SessionData/{code}",
        "/api/docs",
    ]


class _InlineCode(HTMLParser):
    """What a strict CSP would block in a page: inline scripts, styles, handlers, other
    origins' files."""

    def __init__(self, origin: str = "http://testserver") -> None:
        super().__init__()
        self.origin = origin
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in named
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}={value!r}")
            elsewhere = bool(value and re.match(r"(https?:)?//", value)) and not (
                value or ""
            ).startswith(self.origin + "/")
            if name in ("src", "href") and elsewhere and tag in ("script", "link", "img", "iframe"):
                self.found.append(f"{tag} {name}={value!r}")
            if name == "href" and value and value.startswith("javascript:"):
                self.found.append(f"{tag} href={value!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"inline script {data.strip()[:40]!r}")


def test_admin_pages_have_a_strict_policy_and_no_inline_code(client):
    for path in _admin_pages(client):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == STRICT, path
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["cache-control"] == "no-store", path
        parser = _InlineCode()
        parser.feed(response.text)
        assert parser.found == [], (path, parser.found)


def test_the_inline_code_finder_finds_inline_code():
    parser = _InlineCode()
    parser.feed(
        '<script>var x = 1;</script><button onclick="go()">'
        '<script src="https://cdn.example/x.js"></script><p style="color:red">'
    )
    assert len(parser.found) == 4, parser.found


def test_participant_pages_may_run_inline_code_and_be_framed_by_grove(client):
    _code, links = create_demo_session(client, "survey")
    page = client.get(links[0])  # redirects to the first page
    assert "/survey/" in str(page.url)
    assert "var js_vars" in page.text  # the layout's own inline script
    assert page.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/api/sessions", "/room/econ101/status", "/grove_static/grove.js"]
)
def test_json_and_static_answers_say_nosniff(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"


def test_named_hosts_are_the_only_ones_answered(settings):
    app = create_app(settings.with_changes(allowed_hosts=("lab.example.org", "*.uni.example")))
    try:
        for base, status in [
            ("http://lab.example.org", 200),
            ("http://room1.uni.example", 200),
            ("http://evil.example", 400),
            ("http://lab.example.org.evil.example", 400),
        ]:
            with TestClient(app, base_url=base) as client:
                assert client.get("/demo").status_code == status, base
    finally:
        app.state.grove.db.dispose()


def test_a_refused_host_notes_no_participant_as_seen(settings):
    """The host is checked before anything else: a page or a page's socket asked for through
    another host is refused (400, the socket denied) and leaves the participant unseen."""
    app = create_app(settings.with_changes(allowed_hosts=("lab.example.org",)))
    try:
        with TestClient(app, base_url="http://lab.example.org") as client:
            _code, links = create_demo_session(client, "survey")
            code = links[0].rstrip("/").rsplit("/", 1)[1]
            page = client.get(links[0], headers={"host": "evil.example"})
            assert page.status_code == 400
            assert page.headers["x-content-type-options"] == "nosniff"
            refused_socket = client.websocket_connect(
                f"/live/{code}/1", headers={"host": "evil.example"}
            )
            with pytest.raises(WebSocketDenialResponse) as denied, refused_socket:
                pass
            assert denied.value.status_code == 400
            with app.state.grove.db.read() as db:
                seen = db.scalar(sa.select(Participant.last_seen).where(Participant.code == code))
            assert seen is None
            assert client.get(links[0]).status_code == 200  # the named host: served and noted
            with app.state.grove.db.read() as db:
                seen = db.scalar(sa.select(Participant.last_seen).where(Participant.code == code))
            assert seen is not None
    finally:
        app.state.grove.db.dispose()


def test_production_without_named_hosts_warns(settings, caplog):
    production = settings.with_changes(
        production=True, secret_key="p" * 40, admin_password="secret"
    )
    with caplog.at_level(logging.WARNING, logger="grove"):
        app = create_app(production)
    app.state.grove.db.dispose()
    assert any("GROVE_ALLOWED_HOSTS" in record.getMessage() for record in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="grove"):
        app = create_app(production.with_changes(allowed_hosts=("lab.example.org",)))
    app.state.grove.db.dispose()
    assert not any("GROVE_ALLOWED_HOSTS" in record.getMessage() for record in caplog.records)


def test_allowed_hosts_come_from_the_environment_or_settings_py(tmp_path):
    from server.config import load_settings
    from tests.conftest import REPO_ROOT

    loaded = load_settings(REPO_ROOT, {"GROVE_ALLOWED_HOSTS": "lab.example.org, *.uni.example"})
    assert loaded.allowed_hosts == ("lab.example.org", "*.uni.example")
    assert load_settings(REPO_ROOT, {}).allowed_hosts == ()


@pytest.mark.slow
@pytest.mark.browser
def test_admin_pages_in_chromium_break_no_policy_and_frame_participants(browser, tmp_path):
    """Every admin page in a real browser: no CSP violation reported, the split view's
    frames show the participants' pages, and a participant page runs its inline script."""
    database_url = databases.database_url(tmp_path, "browser")
    with live_server(database_url, workers=1) as base:
        code = httpx.post(
            f"{base}/api/sessions/", json={"session_config_name": "trust", "num_participants": 2}
        ).json()["code"]
        page = browser.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda message: (
                problems.append(message.text)
                if "Content Security Policy" in message.text or message.type == "error"
                else None
            ),
        )
        for path in ["/demo", "/sessions", "/rooms", "/login", f"/SessionStartLinks/{code}"]:
            page.goto(base + path)
            # Both stylesheets (Grove's own files) applied: Bootstrap's body margin 0 and
            # grove.css's background.
            assert page.evaluate("getComputedStyle(document.body).margin") == "0px", path
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == (
                "rgb(246, 247, 247)"
            ), path
        page.goto(f"{base}/SessionStartLinks/{code}?view=split")
        page.wait_for_function("document.querySelectorAll('iframe').length === 2")
        frames = [frame for frame in page.frames if frame != page.main_frame]
        assert len(frames) == 2
        for frame in frames:
            # Framing by Grove is allowed: each frame shows its participant's trust page (the
            # trustor's form, or the trustee's wait page).
            frame.wait_for_selector("form, #grove-wait", state="attached", timeout=10_000)
            assert "/trust/" in frame.url
        participant = browser.new_page()
        participant.goto(f"{base}/InitializeParticipant/{_first_code(base, code)}")
        assert participant.evaluate("typeof js_vars") == "object"
        assert problems == [], problems


def _first_code(base: str, session_code: str) -> str:
    people = httpx.get(f"{base}/api/sessions/{session_code}").json()["participants"]
    return min(people, key=lambda p: p["id_in_session"])["code"]
