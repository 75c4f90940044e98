"""Live pages in headless Chromium: two players, each in a browser context of their own and
each on a server process of their own sharing one PostgreSQL database, exchange live messages;
one page loses its connection in the middle and loses nothing.

The connection is cut with Playwright's WebSocket routing, in front of the page: while it is
"down" every reconnection attempt is closed at once, as a dead network would. Meanwhile the
other player sends, and the cut-off player clicks (the click is queued in the page). Once the
network is back the page reconnects by itself: its queued message runs once, and the messages
sent meanwhile arrive, each once.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests import databases
from tests.live_server import live_server

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.postgres]

LIVE_PROJECT = Path(__file__).resolve().parent / "projects" / "live"
SHOWN_MS = 10_000


def _pages(base: str) -> list[str]:
    created = httpx.post(
        f"{base}/api/sessions/",
        json={"session_config_name": "live", "num_participants": 2},
        timeout=60,
    )
    assert created.status_code == 200, created.text
    people = httpx.get(f"{base}/api/sessions/{created.json()['code']}", timeout=60).json()
    return [f"/InitializeParticipant/{person['code']}" for person in people["participants"]]


def _counters(page: Any) -> list[int]:
    items = page.locator("#log li").all_text_contents()
    return [json.loads(item)["counter"] for item in items]


def _wait_for_counters(page: Any, expected: list[int]) -> None:
    deadline = time.monotonic() + SHOWN_MS / 1000
    while time.monotonic() < deadline:
        if sorted(_counters(page)) == expected:
            return
        page.wait_for_timeout(50)
    assert sorted(_counters(page)) == expected


def test_two_players_on_two_servers_exchange_messages_through_a_reconnect(browser, tmp_path):
    database_url = databases.database_url(tmp_path, "live", databases.POSTGRESQL)
    env = {"GROVE_PROJECT_ROOT": str(LIVE_PROJECT)}
    with ExitStack() as stack:
        first = stack.enter_context(live_server(database_url, workers=1, extra_env=env))
        second = stack.enter_context(live_server(database_url, workers=1, extra_env=env))
        start_one, start_two = _pages(first)
        one = browser.new_context().new_page()
        two = browser.new_context().new_page()
        network: dict[str, Any] = {"down": False, "routes": []}

        def route(ws: Any) -> None:
            if network["down"]:
                ws.close()
                return
            ws.connect_to_server()
            network["routes"].append(ws)

        two.route_web_socket("**/live/**", route)
        one.goto(first + start_one)
        two.goto(second + start_two)
        one.wait_for_load_state("load")
        two.wait_for_load_state("load")
        two.wait_for_timeout(500)  # both connected

        one.click("#add")
        two.locator("#counter").filter(has_text="1").wait_for(timeout=SHOWN_MS)
        two.click("#add")
        one.locator("#counter").filter(has_text="2").wait_for(timeout=SHOWN_MS)

        # The network of player two goes down.
        network["down"] = True
        for ws in network["routes"]:
            ws.close()
        two.wait_for_timeout(300)
        one.click("#add")
        one.click("#add")
        two.click("#add")  # queued in the page until it reconnects
        one.locator("#counter").filter(has_text="4").wait_for(timeout=SHOWN_MS)
        assert two.locator("#counter").text_content() == "2"
        network["down"] = False

        _wait_for_counters(two, [1, 2, 3, 4, 5])
        _wait_for_counters(one, [1, 2, 3, 4, 5])
        two.wait_for_timeout(500)  # nothing arrives twice later either
        assert sorted(_counters(two)) == [1, 2, 3, 4, 5]
        engine = databases.engine(database_url)
        stack.callback(engine.dispose)
        with engine.connect() as connection:
            counter = connection.execute(sa.text("SELECT counter FROM live_test_group")).scalar()
        assert counter == 5
