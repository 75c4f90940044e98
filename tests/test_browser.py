"""Real headless Chromium (Debian's package) driven by Playwright: a participant waits in a
room and moves on by itself when a session is created through the REST API."""

from __future__ import annotations

import time

import httpx
import pytest

from tests import databases
from tests.live_server import live_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_waiting_participant_proceeds_when_session_is_created(browser, tmp_path):
    database_url = databases.database_url(tmp_path, "browser")
    with live_server(database_url, workers=2) as base:
        page = browser.new_page()
        page.goto(f"{base}/room/econ101/?participant_label=alice")
        page.click("button.grove-start")
        page.wait_for_selector("#grove-waiting-count")
        assert "Please wait" in page.content()
        created = httpx.post(
            f"{base}/api/sessions/",
            json={"session_config_name": "survey", "num_participants": 2, "room_name": "econ101"},
        )
        assert created.status_code == 200
        started = time.monotonic()
        page.wait_for_url("**/survey/Demographics/1", timeout=10_000)
        assert time.monotonic() - started < 5
        page.fill("#id_age", "34")
        page.get_by_label("Female", exact=True).check()
        page.fill("#id_temperature", "21.5")
        page.select_option("#id_year_in_school", "Senior")
        page.click("button.grove-next")
        page.wait_for_url("**/survey/Attitudes/2")
        page.screenshot(path=str(tmp_path / "attitudes.png"))
        detail = httpx.get(f"{base}/api/sessions/{created.json()['code']}").json()
        alice = next(p for p in detail["participants"] if p["label"] == "alice")
        assert alice["current_page_name"] == "Attitudes"


def test_wait_page_moves_on_by_itself_when_the_other_player_decides(browser, tmp_path):
    database_url = databases.database_url(tmp_path, "wait")
    with live_server(database_url, workers=2) as base, httpx.Client(base_url=base) as client:
        code = client.post(
            "/api/sessions", json={"session_config_name": "trust", "num_participants": 2}
        ).json()["code"]
        people = client.get(f"/api/sessions/{code}").json()["participants"]
        trustor, trustee = (p["code"] for p in sorted(people, key=lambda p: p["id_in_session"]))
        page = browser.new_page()
        page.goto(f"{base}/InitializeParticipant/{trustee}")
        page.wait_for_selector("#grove-wait")
        assert "/WaitForTrustor/" in page.url
        time.sleep(1.5)  # the page's long poll is now held by the server
        send = client.get(f"/InitializeParticipant/{trustor}", follow_redirects=True)
        moved = time.monotonic()
        client.post(str(send.url), data={"sent_amount": "5"})
        page.wait_for_url("**/SendBack/**", timeout=10_000)
        assert time.monotonic() - moved < 3
        page.close()
