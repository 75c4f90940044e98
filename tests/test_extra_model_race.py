"""ExtraModel rows written while their session is deleted, on a server with two workers, on
SQLite and on PostgreSQL: every request is answered (no 5xx), no row of the deleted session is
left in an ExtraModel's table, and the other session keeps every row its participants made."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from server.bots.html_form import parse_forms
from tests import databases
from tests.admin_pages import delete_session_on_live_server
from tests.databases import BOTH
from tests.live_server import live_server

EXTRAS = Path(__file__).resolve().parent / "projects" / "extras"
PARTICIPANTS = 16
EXTRA_TABLES = ("market_bid", "market_reply", "market_offer")


def _bid(base: str, code: str, ready: threading.Barrier, statuses: list[int]) -> None:
    """Open the participant's page and, once everyone has theirs open, submit 5 bids."""
    with httpx.Client(base_url=base, timeout=60) as browser:
        page = browser.get(f"/InitializeParticipant/{code}", follow_redirects=True)
        [form] = [f for f in parse_forms(page.text) if f.attributes.get("id") == "form"]
        ready.wait()
        answer = browser.post(
            str(page.url), data=dict(form.submission({"num_bids": "5", "amount": "10"}))
        )
        statuses.append(answer.status_code)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_deleting_a_session_while_its_participants_create_rows(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "race", backend)
    statuses: list[int] = []
    log_path = tmp_path / "server.log"
    env = {"GROVE_PROJECT_ROOT": str(EXTRAS)}
    with live_server(database_url, workers=2, log_path=log_path, extra_env=env) as base:
        codes = []
        for _ in range(2):
            created = httpx.post(
                f"{base}/api/sessions/",
                json={"session_config_name": "market", "num_participants": PARTICIPANTS},
                timeout=60,
            )
            assert created.status_code == 200, created.text
            codes.append(created.json()["code"])
        doomed, kept = codes
        people = {
            code: [
                p["code"]
                for p in httpx.get(f"{base}/api/sessions/{code}", timeout=60).json()["participants"]
            ]
            for code in codes
        }
        everyone = people[doomed] + people[kept]
        # Every page is open before the deletion starts (a page first opened after it would
        # be a 404 with no form), then the submissions and the deletion race.
        ready = threading.Barrier(len(everyone) + 1, timeout=60)
        threads = [
            threading.Thread(target=_bid, args=(base, person, ready, statuses))
            for person in everyone
        ]
        for thread in threads:
            thread.start()
        ready.wait()
        deleted = delete_session_on_live_server(base, doomed)
        for thread in threads:
            thread.join()
        assert deleted == 303, log_path.read_text()[-6000:]
    assert len(statuses) == 2 * PARTICIPANTS
    assert not [s for s in statuses if s >= 500], log_path.read_text()[-6000:]

    engine = databases.engine(database_url)
    try:
        with engine.connect() as connection:
            [kept_id] = connection.execute(sa.text("SELECT id FROM grove_session")).scalars()
            for table in EXTRA_TABLES:
                sessions = connection.execute(
                    sa.text(f"SELECT DISTINCT session_id FROM {table}")
                ).scalars()
                assert set(sessions) == {kept_id}, table
            bids = connection.execute(sa.text("SELECT count(*) FROM market_bid")).scalar_one()
            assert bids == 5 * PARTICIPANTS  # the kept session's participants each made 5
    finally:
        engine.dispose()
