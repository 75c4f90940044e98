"""A page's ``vars_for_template`` that changes the player and then runs a query (which flushes
the change, SQLAlchemy's autoflush) keeps the change, as in oTree, where what a hook sets is
saved with the request. A GET renders in a read transaction when the hooks write nothing; a
write flushed by a query must still send the page down the writing path, never be rolled back
with the read."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases

APP = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "counted"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    views = models.IntegerField(initial=0)


class Counted(Page):
    @staticmethod
    def vars_for_template(player):
        player.views += 1
        rounds = player.in_all_rounds()  # a query: the change above is flushed first
        return dict(rounds=len(rounds))


page_sequence = [Counted]
"""


def _project(root: Path) -> Path:
    (root / "counted").mkdir(parents=True)
    (root / "settings.py").write_text(
        'SESSION_CONFIGS = [dict(name="counted", app_sequence=["counted"], '
        "num_demo_participants=1)]\n"
        'SECRET_KEY = "x"\nOTREE_REST_KEY = "k"\n'
    )
    (root / "counted" / "__init__.py").write_text(APP)
    (root / "counted" / "Counted.html").write_text(
        "{{ block content }}{{ rounds }} {{ player.views }}{{ endblock }}\n"
    )
    return root


def test_a_change_a_hook_made_before_a_query_is_saved(tmp_path):
    settings = load_settings(
        _project(tmp_path / "project"), {"DATABASE_URL": databases.database_url(tmp_path)}
    )
    app = create_app(settings)
    headers = {"otree-rest-key": "k"}
    try:
        with TestClient(app) as client:
            created = client.post(
                "/api/sessions/",
                json={"session_config_name": "counted", "num_participants": 1},
                headers=headers,
            )
            assert created.status_code == 200, created.text
            code = created.json()["code"]
            participant = client.get(f"/api/sessions/{code}", headers=headers).json()
            start = client.get(f"/InitializeParticipant/{participant['participants'][0]['code']}")
            assert start.status_code == 200
            url = str(start.url)
            # Three more loads of the same page: each runs vars_for_template once.
            for _ in range(3):
                assert client.get(url).status_code == 200
            page = client.get(url).text
            assert "1 5" in page, page[page.find("<body") :]
    finally:
        app.state.grove.db.dispose()
