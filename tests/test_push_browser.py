"""The push channel in headless Chromium: wait pages, room pages and page commands.

* Three players of a public goods group, each in a browser context of their own, on two
  server processes sharing one PostgreSQL database: the two who wait are released the moment
  the third, on the other server, submits.
* A room's waiting page moves on by itself when a session is created in the room on the
  other server.
* Page commands (server.page_commands) sent to a participant's open page: reload, a message
  (shown as text in a banner that closes), a redirect; and a message sent before the page
  opened, shown once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from server.db import Database
from server.page_commands import (
    MessageCommand,
    PageCommand,
    RedirectCommand,
    ReloadCommand,
    send_page_command,
)
from tests import databases
from tests.live_server import live_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

RELEASED_MS = 5_000


def _participants(base: str, config: str, count: int, room: str | None = None) -> list[str]:
    body: dict[str, Any] = {"session_config_name": config, "num_participants": count}
    if room is not None:
        body["room_name"] = room
    created = httpx.post(f"{base}/api/sessions/", json=body, timeout=60)
    assert created.status_code == 200, created.text
    people = httpx.get(f"{base}/api/sessions/{created.json()['code']}", timeout=60).json()
    ordered = sorted(people["participants"], key=lambda p: p["id_in_session"])
    return [person["code"] for person in ordered]


def _contribute(page: Any, amount: int) -> None:
    page.fill("input[name=contribution]", str(amount))
    page.click("#form button, #form [type=submit]")


@pytest.mark.postgres
def test_a_group_waiting_on_two_servers_is_released_when_the_last_one_submits(browser, tmp_path):
    database_url = databases.database_url(tmp_path, "wait", databases.POSTGRESQL)
    with ExitStack() as stack:
        first = stack.enter_context(live_server(database_url, workers=1))
        second = stack.enter_context(live_server(database_url, workers=1))
        codes = _participants(first, "public_goods", 3)
        servers = [first, second, first]
        pages = [browser.new_context().new_page() for _ in codes]
        for page, server, code in zip(pages, servers, codes, strict=True):
            page.goto(f"{server}/InitializeParticipant/{code}")
            assert "/Contribute/" in page.url
        for page, amount in zip(pages[:2], (10, 20), strict=True):
            _contribute(page, amount)
            page.wait_for_url("**/ResultsWaitPage/**")
        # A page command reaches a wait page too (the second player's, on the other server).
        database = Database(database_url)
        stack.callback(database.dispose)
        _send(database, codes[1], MessageCommand("Almost there"))
        banner = pages[1].locator(".grove-page-message")
        banner.wait_for(timeout=RELEASED_MS)
        assert banner.inner_text().strip() == "Almost there"
        pages[1].wait_for_timeout(500)
        assert "/ResultsWaitPage/" in pages[0].url
        assert "/ResultsWaitPage/" in pages[1].url

        submitted = time.monotonic()
        _contribute(pages[2], 30)
        pages[2].wait_for_url("**/Results/**")
        for page in pages[:2]:
            page.wait_for_url("**/Results/**", timeout=RELEASED_MS)
        released = time.monotonic() - submitted
        assert released < RELEASED_MS / 1000
        for page in pages:
            # Everyone sees the group's total: the release came after the payoffs were set.
            assert "60" in page.inner_text("body")


@pytest.mark.postgres
def test_a_room_page_starts_when_a_session_is_created_on_the_other_server(browser, tmp_path):
    database_url = databases.database_url(tmp_path, "room", databases.POSTGRESQL)
    with ExitStack() as stack:
        first = stack.enter_context(live_server(database_url, workers=1))
        second = stack.enter_context(live_server(database_url, workers=1))
        page = browser.new_context().new_page()
        page.goto(f"{second}/room/live_demo/")
        page.click("button[type=submit]")
        page.wait_for_selector("#grove-waiting-count")
        assert "Please wait" in page.inner_text("body")
        page.wait_for_timeout(1_000)
        assert "/room/live_demo" in page.url
        created = time.monotonic()
        _participants(first, "survey", 2, room="live_demo")
        page.wait_for_url("**/p/**", timeout=RELEASED_MS)
        assert time.monotonic() - created < RELEASED_MS / 1000
        assert page.locator("form#form").count() == 1  # the session's first page


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, Database]]:
    database_url = databases.database_url(tmp_path, "commands")
    with live_server(database_url, workers=2) as base:
        database = Database(database_url)
        yield base, database
        database.dispose()


def _send(database: Database, code: str, command: PageCommand) -> None:
    database.run(lambda db: send_page_command(db, [code], command))


def _open(browser: Any, base: str, code: str) -> Any:
    page = browser.new_context().new_page()
    page.goto(f"{base}/InitializeParticipant/{code}")
    assert "/p/" in page.url
    return page


def test_reload_loads_the_participants_page_again(browser, server):
    base, database = server
    [code] = _participants(base, "survey", 1)
    page = _open(browser, base, code)
    page.evaluate("window.groveMarker = 'before the reload'")
    page.fill("input[name=age]", "42")
    _send(database, code, ReloadCommand())
    page.wait_for_function("() => window.groveMarker === undefined", timeout=RELEASED_MS)
    page.wait_for_load_state("load")
    assert "/p/" in page.url
    assert page.input_value("input[name=age]") == ""  # a GET, not the form sent again


def test_a_message_shows_as_text_in_a_banner_that_closes(browser, server):
    base, database = server
    [code] = _participants(base, "survey", 1)
    page = _open(browser, base, code)
    text = "<b>Break</b> & back in 5 minutes <script>window.hacked = 1</script>"
    _send(database, code, MessageCommand(text))
    banner = page.locator(".grove-page-message")
    banner.wait_for(timeout=RELEASED_MS)
    assert banner.locator(".grove-page-message-text").inner_text() == text
    assert banner.locator("b, script").count() == 0
    assert page.evaluate("window.hacked") is None
    banner.locator(".btn-close").click()
    assert page.locator(".grove-page-message").count() == 0
    assert "/p/" in page.url


def test_a_redirect_goes_to_the_url(browser, server):
    base, database = server
    [code] = _participants(base, "survey", 1)
    page = _open(browser, base, code)
    page.route(
        "https://elsewhere.example.org/**",
        lambda route: route.fulfill(body="<h1>Elsewhere</h1>", content_type="text/html"),
    )
    _send(database, code, RedirectCommand("https://elsewhere.example.org/survey?id=7"))
    page.wait_for_url("https://elsewhere.example.org/survey?id=7", timeout=RELEASED_MS)
    assert page.inner_text("h1") == "Elsewhere"


def test_a_message_sent_before_the_page_opened_is_shown_once(browser, server):
    base, database = server
    first, second = _participants(base, "survey", 2)
    _send(database, first, MessageCommand("Sent before you came"))
    page = _open(browser, base, first)
    banner = page.locator(".grove-page-message")
    banner.wait_for(timeout=RELEASED_MS)
    assert banner.inner_text().strip() == "Sent before you came"
    # Another participant's page never shows it.
    other = _open(browser, base, second)
    other.wait_for_timeout(1_000)
    assert other.locator(".grove-page-message").count() == 0
    # The same participant's next page does not show it again.
    page.reload()
    page.wait_for_load_state("load")
    page.wait_for_timeout(1_000)
    assert page.locator(".grove-page-message").count() == 0


def test_a_wait_page_whose_status_fails_asks_again_later_not_at_once(browser, server):
    base, _database = server
    _first, second = _participants(base, "trust", 2)
    page = browser.new_context().new_page()
    asked: list[str] = []

    def busy(route: Any) -> None:
        asked.append(route.request.url)
        # Grove's answer when the database is busy: JSON, but no "ready".
        route.fulfill(
            status=503,
            content_type="application/json",
            body='{"ok": false, "status": 503, "error": "the database is busy"}',
        )

    page.route("**/status?wait=1", busy)
    page.goto(f"{base}/InitializeParticipant/{second}")
    assert "/WaitForTrustor/" in page.url
    page.wait_for_timeout(3_000)
    assert 1 <= len(asked) <= 3, f"{len(asked)} status requests in 3 s"
    assert "/WaitForTrustor/" in page.url
