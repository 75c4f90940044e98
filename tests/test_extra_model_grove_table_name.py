"""An ExtraModel whose table would have the name of one of Grove's own tables is refused at
start, naming the model, though a project's MetaData no longer holds copies of Grove's tables
(issue 20, the bots' start-up)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.app import create_app
from server.config import load_settings
from server.errors import ConfigurationError
from tests import databases

APP = """\
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "grove"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class {model}(ExtraModel):
    player = models.Link(Player)
    note = models.StringField()


class Intro(Page):
    pass


page_sequence = [Intro]
"""


@pytest.mark.parametrize("model", ["Session", "Participant", "Urn_Study"])
def test_an_extra_model_stored_under_a_grove_table_name_is_refused(tmp_path: Path, model):
    root = tmp_path / "project"
    app = root / "apps" / "grove"
    app.mkdir(parents=True)
    (root / "settings.py").write_text('SECRET_KEY = "grove-table-name-test"\n')
    (root / "session_configs.py").write_text(
        'SESSION_CONFIGS = [dict(name="g", app_sequence=["grove"], num_demo_participants=1)]\n'
    )
    (app / "__init__.py").write_text(APP.format(model=model))
    (app / "Intro.html").write_text("{{ block content }}{{ next_button }}{{ endblock }}\n")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    with pytest.raises(ConfigurationError, match=rf"ExtraModel {model} would be stored in"):
        create_app(settings)


def test_an_extra_model_stored_under_another_apps_table_name_is_refused(tmp_path: Path):
    # App a's ExtraModel B_player would be stored in a_b_player, the Player table of app a_b,
    # which comes later in the apps: a clear error at start (was SQLAlchemy's "Table
    # 'a_b_player' is already defined", found by the h8 review).
    root = tmp_path / "project"
    (root / "settings.py").parent.mkdir(parents=True)
    (root / "settings.py").write_text('SECRET_KEY = "grove-table-name-test"\n')
    (root / "session_configs.py").write_text(
        'SESSION_CONFIGS = [dict(name="g", app_sequence=["a", "a_b"], num_demo_participants=1)]\n'
    )
    for name, model in (("a", "B_player"), ("a_b", "Note")):
        app = root / "apps" / name
        app.mkdir(parents=True)
        (app / "__init__.py").write_text(
            APP.format(model=model).replace('NAME_IN_URL = "grove"', f'NAME_IN_URL = "{name}"')
        )
        (app / "Intro.html").write_text("{{ block content }}{{ next_button }}{{ endblock }}\n")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    with pytest.raises(ConfigurationError, match=r"a_b_player"):
        create_app(settings)
