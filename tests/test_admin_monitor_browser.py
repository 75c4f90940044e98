"""The Monitor and Data tabs in headless Chromium, on a prodserver with two workers, under the
admin's strict CSP: a participant's progress (in another browser page) appears on the
Monitor within 2 s without a reload, a ticked participant is advanced, the Data tab's table
shows a new contribution by itself, and the wide CSV downloaded from the Data export page
holds the changed config field and the contributions. No policy violation, no script error."""

from __future__ import annotations

import csv
import io

import pytest

from tests import databases
from tests.live_server import live_server

PASSWORD = "monitor-browser-password"


@pytest.mark.slow
@pytest.mark.browser
def test_the_monitor_follows_a_participant_and_advances_another(browser, tmp_path):
    database_url = databases.database_url(tmp_path, "monitor_browser")
    env = {"OTREE_ADMIN_PASSWORD": PASSWORD, "OTREE_AUTH_LEVEL": "STUDY"}
    with live_server(database_url, workers=2, extra_env=env) as base:
        admin = browser.new_page()
        problems: list[str] = []
        admin.on(
            "console",
            lambda message: (
                problems.append(message.text)
                if "Content Security Policy" in message.text or message.type == "error"
                else None
            ),
        )
        admin.on("pageerror", lambda error: problems.append(str(error)))

        admin.goto(f"{base}/login")
        admin.fill("input[name=username]", "admin")
        admin.fill("input[name=password]", PASSWORD)
        admin.click("#grove-login button[type=submit]")
        admin.wait_for_url(f"{base}/sessions")
        admin.goto(f"{base}/sessions/create?config=public_goods")
        admin.fill("input[name=num_participants]", "3")
        admin.fill("#grove-cfg-contribution_timeout_seconds", "240")  # a changed config field
        admin.click("#grove-create-session button[type=submit]")
        admin.wait_for_url("**/SessionStartLinks/*")
        code = admin.url.rsplit("/", 1)[-1]
        links = [
            link.get_attribute("href")
            for link in admin.locator(".grove-participant-link").element_handles()
        ]
        assert len(links) == 3

        admin.click(".grove-tabs >> text=Monitor")
        admin.wait_for_url(f"{base}/SessionMonitor/{code}")
        first_row = admin.locator("[data-grove-monitor-rows] tr").nth(0)
        assert "not started" in first_row.inner_text()

        participant = browser.new_page()
        participant.goto(links[0])
        participant.fill("input[name=contribution]", "25")
        participant.click("button.otree-btn-next")
        participant.wait_for_load_state()
        # Seen without a reload, within 2 s (the page polls once a second, on any worker).
        admin.wait_for_function(
            "() => document.querySelector('[data-grove-monitor-rows] tr')"
            ".innerText.includes('ResultsWaitPage (waiting)')",
            timeout=2000,
        )
        matrix = admin.locator(".grove-group-matrix").inner_text()
        assert "public_goods, round 1" in matrix
        assert "P1" in matrix
        assert "P3" in matrix

        other = browser.new_page()
        other.goto(links[1])  # P2 on Contribute, and leaves the page
        admin.wait_for_function(
            "() => document.querySelectorAll('[data-grove-monitor-rows] tr')[1]"
            ".innerText.includes('Contribute')",
            timeout=2000,
        )
        admin.check("input[aria-label='Advance P2']")
        admin.wait_for_timeout(1500)  # a poll in between keeps the tick
        assert admin.is_checked("input[aria-label='Advance P2']")
        admin.click("button:has-text('Advance by one page')")
        admin.wait_for_url(f"{base}/SessionMonitor/{code}?advanced=1")
        second_row = admin.locator("[data-grove-monitor-rows] tr").nth(1)
        assert "ResultsWaitPage (waiting)" in second_row.inner_text()

        admin.click(".grove-tabs >> text=Data")
        admin.wait_for_url(f"{base}/SessionData/{code}")
        assert "25.0" in admin.inner_text(".grove-session-data")
        third = browser.new_page()
        third.goto(links[2])
        third.fill("input[name=contribution]", "40")
        third.click("button.otree-btn-next")
        admin.wait_for_function(
            "() => document.querySelector('.grove-session-data').innerText.includes('40.0')",
            timeout=8000,
        )

        admin.click(".grove-tabs >> text=Report")
        admin.wait_for_url(f"{base}/SessionReport/{code}")
        assert "3 of 3 players have decided, 1 of them" in admin.inner_text(".grove-admin-report")

        # The wide CSV, downloaded from the Data export page as an experimenter would.
        admin.goto(f"{base}/export?session={code}")
        with admin.expect_download() as download_info:
            admin.click("tr:has-text('All apps') a.grove-export-link[href*='format=csv&']")
        rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text("utf-8"))))
        assert [row["participant.code"] for row in rows] == [
            link.rsplit("/", 1)[-1] for link in links
        ]
        assert {row["session.config.contribution_timeout_seconds"] for row in rows} == {"240"}
        contributions = [row["public_goods.1.player.contribution"] for row in rows]
        assert contributions[0] == "25.0" or contributions[0] == "25", contributions
        assert contributions[2] in ("40", "40.0"), contributions
        assert problems == []
