"""A bug in an app's code, in development: the error page says where in the project it
happened (file, line, function), as oTree's debug page does; in production it says nothing."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases

APP = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "buggy"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Broken(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(x=player.no_such_field)


page_sequence = [Broken]
"""


def _project(root: Path) -> Path:
    (root / "buggy").mkdir(parents=True)
    (root / "settings.py").write_text(
        'SESSION_CONFIGS = [dict(name="buggy", app_sequence=["buggy"], '
        "num_demo_participants=1)]\n"
        'SECRET_KEY = "x"\n'
    )
    (root / "buggy" / "__init__.py").write_text(APP)
    (root / "buggy" / "Broken.html").write_text("{{ block content }}{{ x }}{{ endblock }}\n")
    return root


def _broken_page(tmp_path: Path, **environ: str):
    settings = load_settings(
        _project(tmp_path / "project"),
        {"DATABASE_URL": databases.database_url(tmp_path), **environ},
    )
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            created = client.post(
                "/api/sessions/",
                json={"session_config_name": "buggy", "num_participants": 1},
                headers={"otree-rest-key": environ.get("OTREE_REST_KEY", "")},
            )
            assert created.status_code == 200, created.text
            session = client.get(
                f"/api/sessions/{created.json()['code']}",
                headers={"otree-rest-key": environ.get("OTREE_REST_KEY", "")},
            ).json()
            code = session["participants"][0]["code"]
            return client.get(f"/InitializeParticipant/{code}")
    finally:
        app.state.grove.db.dispose()


def test_the_error_page_names_the_apps_file_and_line(tmp_path):
    page = _broken_page(tmp_path)
    assert page.status_code == 500
    assert "AttributeError" in page.text
    assert "(in buggy/__init__.py, line 25, in vars_for_template)" in page.text


def test_production_names_nothing(tmp_path):
    page = _broken_page(
        tmp_path,
        OTREE_PRODUCTION="1",
        OTREE_SECRET_KEY="a-real-secret-for-this-test-of-32-characters",
        OTREE_ADMIN_PASSWORD="pw",
        OTREE_REST_KEY="a-rest-key-of-enough-length",
    )
    assert page.status_code == 500
    assert "buggy/__init__.py" not in page.text
    assert "no_such_field" not in page.text
