"""Deleting a session while its participants play, on a server with two workers, on SQLite and
on PostgreSQL: every request is answered (no 5xx: a participant whose session went away gets a
404 page), and no row of the deleted session is left in any table, whatever was committed
around the deletion. Another session played at the same time keeps all of its rows."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from server.bots.html_form import parse_forms
from tests import databases
from tests.admin_pages import delete_session_on_live_server
from tests.databases import BOTH
from tests.live_server import live_server

PARTICIPANTS = 8


def _start(base: str, code: str) -> list[tuple[str, str]]:
    """Each participant's page URL and chat token."""
    people = httpx.get(f"{base}/api/sessions/{code}", timeout=60).json()["participants"]
    started = []
    for person in people:
        page = httpx.get(
            f"{base}/InitializeParticipant/{person['code']}", follow_redirects=True, timeout=60
        )
        token = re.search(r'data-token="([^"]+)"', page.text)
        assert token, page.text
        started.append((str(page.url), token[1]))
    return started


def _play(url: str, token: str, stop: threading.Event, statuses: list[int]) -> None:
    chat = url.split("/prisoner/")[0] + "/chat"
    with httpx.Client(timeout=60) as browser:
        while not stop.is_set():
            page = browser.get(url)
            statuses.append(page.status_code)
            sent = browser.post(chat, json={"token": token, "body": "hello"})
            statuses.append(sent.status_code)
            forms = [f for f in parse_forms(page.text) if f.attributes.get("id") == "form"]
            if page.status_code == 200 and forms and "cooperate" in forms[0].names():
                choice = forms[0].choices("cooperate")[0].value
                answer = browser.post(url, data=dict(forms[0].submission({"cooperate": choice})))
                statuses.append(answer.status_code)
                if answer.status_code == 303:
                    url = str(httpx.URL(url).join(answer.headers["location"]))


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_deleting_a_session_while_it_is_played_leaves_no_row_and_no_error(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "race", backend)
    statuses: list[int] = []
    log_path = tmp_path / "server.log"
    with live_server(database_url, workers=2, log_path=log_path) as base:
        codes = []
        for _ in range(2):
            created = httpx.post(
                f"{base}/api/sessions/",
                json={"session_config_name": "prisoner", "num_participants": PARTICIPANTS},
                timeout=60,
            )
            assert created.status_code == 200, created.text
            codes.append(created.json()["code"])
        doomed, kept = codes
        players = _start(base, doomed) + _start(base, kept)
        stop = threading.Event()
        threads = [
            threading.Thread(target=_play, args=(url, token, stop, statuses))
            for url, token in players
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        deleted = delete_session_on_live_server(base, doomed)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
        assert deleted == 303, log_path.read_text()[-6000:]
        assert httpx.get(f"{base}/api/sessions/{doomed}", timeout=60).status_code == 404
        kept_detail = httpx.get(f"{base}/api/sessions/{kept}", timeout=60).json()
    assert statuses, "nobody played"
    errors = [s for s in statuses if s >= 500]
    assert not errors, log_path.read_text()[-6000:]
    assert 404 in statuses  # the doomed participants went on after the deletion
    assert len(kept_detail["participants"]) == PARTICIPANTS

    engine = databases.engine(database_url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(engine)
            sessions = connection.execute(sa.text("SELECT id, code FROM grove_session")).all()
            assert [row.code for row in sessions] == [kept]
            participants = {
                row.id for row in connection.execute(sa.text("SELECT id FROM grove_participant"))
            }
            assert len(participants) == PARTICIPANTS
            for name in inspector.get_table_names():
                columns = {c["name"] for c in inspector.get_columns(name)}
                if "session_id" in columns and name != "grove_urn_assignment":
                    stray = connection.execute(
                        sa.text(f'SELECT count(*) FROM "{name}" WHERE session_id != :kept'),
                        {"kept": sessions[0].id},
                    ).scalar_one()
                    assert stray == 0, name
                if "participant_id" in columns:
                    ids = connection.execute(
                        sa.text(
                            f'SELECT participant_id FROM "{name}" WHERE participant_id IS NOT NULL'
                        )
                    ).scalars()
                    assert set(ids) <= participants, name
            kept_chat = connection.execute(
                sa.text("SELECT count(*) FROM grove_chat_message")
            ).scalar_one()
            assert kept_chat > 0
    finally:
        engine.dispose()
