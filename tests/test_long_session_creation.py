"""Creating a big session is one long write: on SQLite every other write waits for it. It
reports its progress between rounds, so participants of another session submitting meanwhile
wait for it instead of getting "database busy" after the lock timeout, which is meant for a
writer that is stuck (an attack found 503s while a 10,000-participant session was created)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session

# slow: a session creation that outlasts the lock timeout.
pytestmark = [pytest.mark.sqlite, pytest.mark.slow]

LOCK_TIMEOUT = 0.4
ROUNDS = 8
SECONDS_PER_ROUND = 0.15  # the whole creation: about 1.2 s, three times the lock timeout

APP = f"""
import time

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "slow"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = {ROUNDS}


class Subsession(BaseSubsession):
    pass


def creating_session(subsession):
    if subsession.session.config.get("slow"):
        time.sleep({SECONDS_PER_ROUND})


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.IntegerField()


class Entry(Page):
    form_model = "player"
    form_fields = ["answer"]


page_sequence = [Entry]
"""


def _project(root: Path) -> Path:
    app = root / "apps" / "slow"
    app.mkdir(parents=True)
    (root / "settings.py").write_text("")
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [\n"
        '    dict(name="quick", app_sequence=["slow"], num_demo_participants=1),\n'
        '    dict(name="slow", app_sequence=["slow"], num_demo_participants=1, slow=True),\n'
        "]\n"
    )
    (app / "__init__.py").write_text(APP)
    (app / "Entry.html").write_text(
        "{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}"
    )
    return root


def test_a_long_session_creation_makes_no_other_write_fail(tmp_path):
    root = _project(tmp_path / "project")
    url = databases.database_url(tmp_path, "long", databases.SQLITE)
    environ = {"DATABASE_URL": url, "GROVE_DB_LOCK_TIMEOUT": str(LOCK_TIMEOUT)}
    app = create_app(load_settings(root, environ))
    try:
        with TestClient(app) as client:
            _code, [link] = create_demo_session(client, "quick")
            page_url = client.get(link, follow_redirects=False).headers["location"]
            assert client.get(page_url).status_code == 200

            created: list[int] = []
            creator = threading.Thread(
                target=lambda: created.append(
                    client.post("/demo/slow", follow_redirects=False).status_code
                )
            )
            creator.start()
            time.sleep(2 * SECONDS_PER_ROUND)  # the creation holds the write lock by now
            started = time.monotonic()
            submitted = client.post(page_url, data={"answer": "7"}, follow_redirects=False)
            waited = time.monotonic() - started
            creator.join()
    finally:
        app.state.grove.db.dispose()
    assert created == [303]
    assert submitted.status_code == 303, submitted.text[:300]
    assert waited > LOCK_TIMEOUT  # it did wait behind the creation, and was not refused
