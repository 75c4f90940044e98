"""A page's hooks run outside the worker's event loop: a ``vars_for_template`` that waits (an
experimenter's call to another service, a slow computation) holds up its own participant's
page, not every other participant of the worker. oTree runs its page code in a thread pool
too (``otree/views/abstract.py``, ``run_in_threadpool``).

Why a page GET that only reads still takes a thread hop (issue 20's "no thread hop for a page
GET on SQLite" was measured and left): its read runs the app's hooks and its template, which
may wait on anything; on the event loop they would stop the worker's live pages, wait-page
status requests and every other page until they return."""

from __future__ import annotations

import threading
from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases

WAIT_SECONDS = 5.0

APP = """\
import os
import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "calls_out"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Ask(Page):
    @staticmethod
    def vars_for_template(player):
        if player.id_in_subsession != 1:
            return dict(answered=True)
        # Participant 1's page waits for an answer from elsewhere (here: a file appearing).
        open(STARTED, "w").close()
        deadline = time.monotonic() + WAIT_SECONDS
        while not os.path.exists(ANSWER) and time.monotonic() < deadline:
            time.sleep(0.01)
        return dict(answered=os.path.exists(ANSWER))


page_sequence = [Ask]
"""


def _project(root: Path, started: Path, answer: Path) -> Path:
    (root / "calls_out").mkdir(parents=True)
    (root / "settings.py").write_text(
        'SESSION_CONFIGS = [dict(name="calls_out", app_sequence=["calls_out"], '
        "num_demo_participants=2)]\n"
        'SECRET_KEY = "x"\nOTREE_REST_KEY = "k"\n'
    )
    constants = (
        f"STARTED = {str(started)!r}\nANSWER = {str(answer)!r}\nWAIT_SECONDS = {WAIT_SECONDS}\n"
    )
    (root / "calls_out" / "__init__.py").write_text(
        APP.replace("class C(", constants + "\n\nclass C(", 1)
    )
    (root / "calls_out" / "Ask.html").write_text(
        "{{ block content }}answered={{ answered }}{{ endblock }}\n"
    )
    return root


def test_a_hook_that_waits_holds_up_only_its_own_participants_page(tmp_path):
    started, answer = tmp_path / "started", tmp_path / "answer"
    settings = load_settings(
        _project(tmp_path / "project", started, answer),
        {"DATABASE_URL": databases.database_url(tmp_path)},
    )
    app = create_app(settings)
    headers = {"otree-rest-key": "k"}
    try:
        with TestClient(app) as client:
            created = client.post(
                "/api/sessions/",
                json={"session_config_name": "calls_out", "num_participants": 2},
                headers=headers,
            )
            assert created.status_code == 200, created.text
            session = client.get(f"/api/sessions/{created.json()['code']}", headers=headers)
            codes = [p["code"] for p in session.json()["participants"]]
            pages = [
                client.get(f"/InitializeParticipant/{code}", follow_redirects=False).headers[
                    "location"
                ]
                for code in codes
            ]
            assert not started.exists()

            waiting: dict[str, str] = {}

            def first_participant() -> None:
                waiting["page"] = client.get(pages[0]).text

            thread = threading.Thread(target=first_participant)
            thread.start()
            for _ in range(int(WAIT_SECONDS * 100)):
                if started.exists():
                    break
                threading.Event().wait(0.01)
            assert started.exists(), "participant 1's hook never ran"

            # While participant 1's hook waits, participant 2's page answers; only then does
            # the answer participant 1's hook waits for arrive.
            other = client.get(pages[1])
            answer.touch()
            thread.join(WAIT_SECONDS * 2)

            assert other.status_code == 200
            assert "answered=True" in other.text
            assert "answered=True" in waiting["page"], (
                "participant 2's page waited for participant 1's hook"
            )
    finally:
        app.state.grove.db.dispose()
