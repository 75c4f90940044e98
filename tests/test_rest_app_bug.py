"""A session created over REST whose app raises in ``creating_session`` (an experimenter's
bug): a 500 in the REST API's JSON shape that, outside production, says what was raised and
where in the project, and no session left behind (the creation is one unit of work)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases

APP = """
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "buggy"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


def creating_session(subsession):
    for player in subsession.get_players():
        player.share = 1 / (subsession.round_number - 2)  # round 2: division by zero


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    share = models.FloatField()


class Entry(Page):
    pass


page_sequence = [Entry]
"""
KEY = "k" * 32


def _project(root: Path) -> Path:
    app = root / "buggy"
    app.mkdir(parents=True)
    (root / "settings.py").write_text(
        "SESSION_CONFIGS = [dict(name='buggy', app_sequence=['buggy'], num_demo_participants=2)]\n"
    )
    (app / "__init__.py").write_text(APP)
    return root


@pytest.mark.parametrize("production", [False, True])
def test_creating_session_that_raises(tmp_path: Path, production: bool) -> None:
    settings = load_settings(
        _project(tmp_path / "project"),
        {"DATABASE_URL": databases.database_url(tmp_path), "OTREE_REST_KEY": KEY},
    )
    if production:
        settings = settings.with_changes(production=True, secret_key="p" * 40, admin_password="pw")
    app = create_app(settings)
    headers = {"otree-rest-key": KEY}
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.post(
                "/api/sessions/",
                json={"session_config_name": "buggy", "num_participants": 2},
                headers=headers,
            )
            listed = client.get("/api/sessions/", headers=headers).json()
    finally:
        app.state.grove.db.dispose()
    assert answer.status_code == 500
    assert answer.json()["ok"] is False
    if production:
        assert answer.json()["error"] == "internal server error"
    else:
        assert answer.json()["error"] == (
            "internal server error: ZeroDivisionError: division by zero "
            "(in buggy/__init__.py, line 17, in creating_session)"
        )
    assert listed == []  # nothing of the session was kept
