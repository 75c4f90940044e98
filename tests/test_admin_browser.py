"""The admin area in headless Chromium, under its strict CSP: log in, create a session with a
changed config field (the config chosen from the list shows its fields by itself), see its
Links and Payments tabs, archive and delete it, make an API key, log out; no policy violation
and no script error on the way."""

from __future__ import annotations

import httpx
import pytest

from tests import databases
from tests.live_server import live_server

PASSWORD = "browser-test-password"


@pytest.mark.slow
@pytest.mark.browser
def test_an_admin_creates_configures_archives_and_deletes_a_session(browser, tmp_path):
    database_url = databases.database_url(tmp_path, "admin_browser")
    env = {"OTREE_ADMIN_PASSWORD": PASSWORD, "OTREE_AUTH_LEVEL": "STUDY"}
    with live_server(database_url, workers=1, extra_env=env) as base:
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
        page.on("pageerror", lambda error: problems.append(str(error)))

        page.goto(f"{base}/sessions")
        assert "/login" in page.url
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("#grove-login button[type=submit]")
        page.wait_for_url(f"{base}/sessions")

        page.click("nav >> text=Create session")
        page.select_option("#grove-config", "trust")  # the page reloads with its fields
        page.wait_for_url("**/sessions/create?config=trust")
        page.fill("input[name='config.num_apples']", "12")
        page.fill("input[name='config.participation_fee']", "2.5")
        page.fill("#grove-session-description", "browser pilot")
        page.click("#grove-create-session button[type=submit]")
        page.wait_for_url("**/SessionStartLinks/*")
        code = page.url.rsplit("/", 1)[-1]
        assert page.locator(".grove-participant-link").count() == 2
        assert "browser pilot" in page.inner_text(".grove-session-manage summary")

        page.click(".grove-tabs >> text=Payments")
        page.wait_for_url(f"{base}/SessionPayments/{code}")
        assert "$2.50" in page.inner_text(".grove-payments")

        page.click(".grove-session-actions button:has-text('Archive')")
        page.wait_for_url(f"{base}/SessionPayments/{code}")
        assert page.locator("h1 .badge").inner_text() == "archived"
        page.goto(f"{base}/sessions")
        assert code not in page.content()
        page.click("text=Show archived sessions")
        assert code in page.content()

        page.goto(f"{base}/SessionStartLinks/{code}")
        page.click("text=Delete…")
        page.click("button:has-text('Delete this session')")
        page.wait_for_url(f"{base}/sessions")
        page.goto(f"{base}/sessions?archived=1")
        assert code not in page.content()
        assert "No archived sessions." in page.content()

        page.click("nav >> text=API keys")
        page.fill("#grove-key-user", "lab")
        page.click("#grove-create-key button[type=submit]")
        key = page.inner_text("code.grove-key")
        assert len(key) >= 40
        status = httpx.get(f"{base}/api/sessions/", headers={"otree-rest-key": key}).status_code
        assert status == 200

        page.click("nav >> text=Log out")
        page.wait_for_url(f"{base}/login")
        page.goto(f"{base}/sessions")
        assert "/login" in page.url
    assert problems == [], problems
