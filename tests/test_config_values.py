"""Session config values take the kind of their default (server/session_config_values.py):
checked where they are written (REST, project files), read leniently where old rows hold a
bad one. Expected kinds follow oTree 6.0.15's admin form (a number box for an int or float
default, a check box for a bool, a text box for a str) and its participation_fee as money."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from server.errors import ConfigurationError
from tests import databases
from tests.rest_helpers import assert_error_shape, table_counts

PAY_APP = """
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "pay"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Payment(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(total=player.participant.payoff_plus_participation_fee())


page_sequence = [Payment]
"""

PAY_TEMPLATE = """{{ block content }}<p id="total">You receive {{ total }}.</p>
<p id="fee">Fee: {{ session.config.participation_fee }}</p>{{ endblock }}"""

SETTINGS = """
SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=0.5, participation_fee=2.0, show_hints=True, title="Study",
    rounds=3, extras=None,
)
ROOMS = []
SECRET_KEY = "config-values-test"
"""

CONFIGS = """
SESSION_CONFIGS = [dict(name="pay", app_sequence=["pay"], num_demo_participants=1)]
"""


def write_project(root: Path, settings: str = SETTINGS, configs: str = CONFIGS) -> Path:
    """A one-app project whose only page shows the payment (payoff plus fee)."""
    app = root / "apps" / "pay"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text(PAY_APP)
    (app / "Payment.html").write_text(PAY_TEMPLATE)
    (root / "settings.py").write_text(textwrap.dedent(settings))
    (root / "session_configs.py").write_text(textwrap.dedent(configs))
    return root


@pytest.fixture
def project(tmp_path):
    root = write_project(tmp_path / "project")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    engine = databases.engine(settings.database_url)
    with TestClient(app) as client:
        yield client, engine
    engine.dispose()
    app.state.grove.db.dispose()


def create(client, fields, *, form=False):
    if form:
        data = {"session_config_name": "pay", "num_participants": "1"}
        data.update({f"modified_session_config_fields.{k}": v for k, v in fields.items()})
        return client.post("/api/sessions/", data=data)
    return client.post(
        "/api/sessions/",
        json={
            "session_config_name": "pay",
            "num_participants": 1,
            "modified_session_config_fields": fields,
        },
    )


@pytest.mark.parametrize(
    ("fields", "form", "field"),
    [
        ({"participation_fee": "x"}, False, "participation_fee"),
        ({"participation_fee": "five dollars"}, True, "participation_fee"),
        ({"participation_fee": True}, False, "participation_fee"),
        ({"participation_fee": None}, False, "participation_fee"),
        ({"participation_fee": [5]}, False, "participation_fee"),
        ({"participation_fee": "NaN"}, True, "participation_fee"),
        ({"participation_fee": "Infinity"}, True, "participation_fee"),
        ({"real_world_currency_per_point": "x"}, False, "real_world_currency_per_point"),
        ({"real_world_currency_per_point": "1" * 60}, True, "real_world_currency_per_point"),
        ({"rounds": "three"}, True, "rounds"),
        ({"rounds": {"n": 3}}, False, "rounds"),
        ({"show_hints": "maybe"}, True, "show_hints"),
        ({"show_hints": 1}, False, "show_hints"),
        ({"title": 5}, False, "title"),
        ({"title": ["Study"]}, False, "title"),
    ],
)
def test_a_value_not_of_its_defaults_kind_is_a_400_naming_it(project, fields, form, field):
    client, engine = project
    before = table_counts(engine)
    body = assert_error_shape(create(client, fields, form=form), 400)
    assert body["errors"][0]["field"] == f"modified_session_config_fields.{field}"
    assert field in body["error"]
    assert table_counts(engine) == before


@pytest.mark.parametrize(
    ("fields", "form", "stored"),
    [
        ({"participation_fee": "2.5"}, True, {"participation_fee": 2.5}),
        ({"participation_fee": 3}, False, {"participation_fee": 3.0}),  # oTree's: 3.0
        ({"participation_fee": " 1.25 "}, False, {"participation_fee": 1.25}),
        ({"real_world_currency_per_point": "0.01"}, True, {"real_world_currency_per_point": 0.01}),
        ({"rounds": "5"}, True, {"rounds": 5}),
        ({"rounds": 2.5}, False, {"rounds": 2.5}),
        ({"show_hints": "false"}, True, {"show_hints": False}),
        ({"show_hints": "on"}, True, {"show_hints": True}),
        ({"show_hints": False}, False, {"show_hints": False}),
        ({"title": "Pilot"}, False, {"title": "Pilot"}),
        ({"extras": [1, "a"]}, False, {"extras": [1, "a"]}),  # a None default: any value
        ({"brand_new_key": {"a": 1}}, False, {"brand_new_key": {"a": 1}}),  # as in oTree
    ],
)
def test_a_value_of_its_kind_is_stored_as_that_kind(project, fields, form, stored):
    client, _engine = project
    created = create(client, fields, form=form)
    assert created.status_code == 200, created.text
    config = client.get(f"/api/sessions/{created.json()['code']}").json()["config"]
    for key, value in stored.items():
        assert config[key] == value
        assert type(config[key]) is type(value)


def start(client, session_code: str) -> str:
    participant = client.get(f"/api/sessions/{session_code}").json()["participants"][0]["code"]
    return client.get(f"/InitializeParticipant/{participant}").text


def test_the_fee_a_form_sent_reaches_the_payment_page(project):
    client, _engine = project
    created = create(client, {"participation_fee": "4.5"}, form=True)
    assert "You receive $4.50." in start(client, created.json()["code"])


def test_the_configs_fee_is_money_as_in_otree(project):
    """oTree 6.0.15 turns session.config["participation_fee"] into a RealWorldCurrency: a
    template printing it shows "$4.50" (and "4,50 €" in German), not "4.5"."""
    client, _engine = project
    created = create(client, {"participation_fee": "4.5"}, form=True)
    assert '<p id="fee">Fee: $4.50</p>' in start(client, created.json()["code"])
    created = create(client, {})
    assert '<p id="fee">Fee: $2.00</p>' in start(client, created.json()["code"])


def test_a_bad_fee_stored_before_the_check_is_a_clear_page_not_a_500(project):
    client, engine = project
    code = create(client, {}).json()["code"]
    sessions = sa.table("grove_session", sa.column("code"), sa.column("config", sa.JSON))
    with engine.begin() as connection:
        old = connection.execute(sa.select(sessions.c.config).where(sessions.c.code == code))
        config = old.scalar_one()
        config.update(participation_fee="five dollars", real_world_currency_per_point="x")
        connection.execute(sa.update(sessions).where(sessions.c.code == code).values(config=config))
    participant = client.get(f"/api/sessions/{code}").json()["participants"][0]["code"]
    page = client.get(f"/InitializeParticipant/{participant}")
    assert page.status_code == 400
    assert "real_world_currency_per_point = &#39;x&#39;, which is not a number" in page.text
    detail = client.get(f"/api/sessions/{code}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["config"]["participation_fee"] == "five dollars"
    assert detail.json()["participants"][0]["payoff_in_real_world_currency"] is None


@pytest.mark.parametrize(
    ("settings", "configs", "message"),
    [
        (
            SETTINGS.replace("participation_fee=2.0", 'participation_fee="two"'),
            CONFIGS,
            "settings.py: SESSION_CONFIG_DEFAULTS: participation_fee must be a number, not 'two'",
        ),
        (
            SETTINGS,
            CONFIGS.replace("num_demo_participants=1", "num_demo_participants=1, rounds='x'"),
            "SESSION_CONFIGS[0] (pay): rounds must be a number, not 'x'",
        ),
        (
            SETTINGS,
            CONFIGS.replace("num_demo_participants=1", "num_demo_participants=1, show_hints=2"),
            "SESSION_CONFIGS[0] (pay): show_hints must be true or false, not 2",
        ),
        (
            "ROOMS = []\n",
            CONFIGS.replace(
                "num_demo_participants=1", "num_demo_participants=1, participation_fee='5 $'"
            ),
            "SESSION_CONFIGS[0] (pay): participation_fee must be a number, not '5 $'",
        ),
        (
            "ROOMS = []\n",
            CONFIGS.replace(
                "num_demo_participants=1",
                "num_demo_participants=1, real_world_currency_per_point=float('nan')",
            ),
            "real_world_currency_per_point must be a finite number, not nan",
        ),
    ],
)
def test_a_bad_value_in_the_project_files_is_refused_at_start(tmp_path, settings, configs, message):
    root = write_project(tmp_path / "bad", settings, configs)
    loaded = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    with pytest.raises(ConfigurationError) as refused:
        create_app(loaded)
    assert message in str(refused.value)


def test_numeric_text_in_the_project_files_is_read_as_a_number(tmp_path):
    configs = CONFIGS.replace("num_demo_participants=1", "num_demo_participants=1, rounds='4'")
    root = write_project(tmp_path / "text", SETTINGS, configs)
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    try:
        assert app.state.grove.project.session_config("pay")["rounds"] == 4
    finally:
        app.state.grove.db.dispose()
