"""What a page's ``before_next_page`` sets on any of the rows a hook reaches (the player, its
group and subsession, the participant, the session; fields and ``vars``) is saved with the
submission, as in oTree, where the request's changes are all committed; and the next page,
rendered from a fresh read, shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session

APP = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "writes"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    last_amount = models.IntegerField(initial=0)


class Group(BaseGroup):
    total = models.IntegerField(initial=0)


class Player(BasePlayer):
    amount = models.IntegerField(min=0, max=100)
    note = models.StringField(initial="")
    same = models.IntegerField(initial=7)


class Give(Page):
    form_model = "player"
    form_fields = ["amount"]

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.note = "noted"
        player.same = 7  # the value it has: no change
        player.payoff = player.amount
        player.group.total += player.amount * 2
        player.subsession.last_amount = player.amount
        player.participant.level = player.amount + 1
        player.participant.vars["seen"] = [player.amount]
        player.session.vars["count"] = player.session.vars.get("count", 0) + 1


class Shown(Page):
    pass


page_sequence = [Give, Shown]
"""

SHOWN = (
    "{{ block content }}"
    "note={{ player.note }};same={{ player.same }};payoff={{ player.payoff }};"
    "total={{ group.total }};last={{ subsession.last_amount }};"
    "level={{ participant.level }};seen={{ participant.vars.seen }};"
    "count={{ session.vars.count }};"
    "{{ endblock }}\n"
)


LATER = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "later"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    word = models.StringField()


class Ask(Page):
    form_model = "player"
    form_fields = ["word"]


page_sequence = [Ask]
"""


def _project(root: Path) -> Path:
    (root / "writes").mkdir(parents=True)
    (root / "later").mkdir()
    (root / "later" / "__init__.py").write_text(LATER)
    (root / "later" / "Ask.html").write_text(
        "{{ block content }}level={{ participant.level }};{{ formfields }}{{ next_button }}"
        "{{ endblock }}\n"
    )
    (root / "settings.py").write_text(
        'SESSION_CONFIGS = [dict(name="writes", app_sequence=["writes", "later"], '
        "num_demo_participants=2)]\n"
        'PARTICIPANT_FIELDS = ["level"]\nSESSION_FIELDS = []\nUSE_POINTS = True\n'
        'SECRET_KEY = "x"\n'
    )
    (root / "writes" / "__init__.py").write_text(APP)
    (root / "writes" / "Give.html").write_text(
        "{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}\n"
    )
    (root / "writes" / "Shown.html").write_text(SHOWN)
    return root


@pytest.fixture
def writes_app(tmp_path: Path) -> Any:
    settings = load_settings(
        _project(tmp_path / "project"), {"DATABASE_URL": databases.database_url(tmp_path)}
    )
    app = create_app(settings)
    yield app
    app.state.grove.db.dispose()


def _submit(client: TestClient, link: str, amount: str) -> str:
    form_page = client.get(link)
    assert form_page.status_code == 200
    assert "/Give/1" in str(form_page.url)
    done = client.post(str(form_page.url), data={"amount": amount})
    assert done.status_code == 200
    assert "/Shown/2" in str(done.url)
    return done.text


def test_what_before_next_page_sets_on_every_row_is_saved(writes_app: Any) -> None:
    with TestClient(writes_app) as client:
        _code, links = create_demo_session(client, "writes")
        first = _submit(client, links[0], "5")
        assert (
            "note=noted;same=7;payoff=5 points;total=10;last=5;level=6;seen=[5];count=1;" in first
        )
        second = _submit(client, links[1], "20")
        # The group and the session are the first participant's too: their changes add up.
        assert (
            "note=noted;same=7;payoff=20 points;total=50;last=20;level=21;seen=[20];count=2;"
            in (second)
        )
        again = client.get(links[0])
        assert "payoff=5 points;total=50;last=20;level=6;seen=[5];count=2;" in again.text


def test_a_form_of_an_app_left_behind_posted_again_changes_nothing(writes_app: Any) -> None:
    """The POST's URL names the app it came from (its player is read with the participant on
    SQLite); a participant now in another app is sent back to their page, and nothing of the
    old form is stored."""
    with TestClient(writes_app) as client:
        _code, links = create_demo_session(client, "writes")
        form_page = client.get(links[0])
        give_url = str(form_page.url)
        shown = client.post(give_url, data={"amount": "5"})
        ask = client.post(str(shown.url), data={})
        assert "/later/Ask/3" in str(ask.url)
        assert "level=6;" in ask.text
        replay = client.post(give_url, data={"amount": "99"}, follow_redirects=False)
        assert replay.status_code == 303
        assert replay.headers["location"].endswith("/later/Ask/3")
        assert "level=6;" in client.get(replay.headers["location"]).text
        done = client.post(str(ask.url), data={"word": "fine"}, follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"].endswith("/finished")
