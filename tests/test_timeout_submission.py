"""oTree's ``Page.timeout_submission`` (deprecated in oTree's docs, still honoured by oTree
6.0.15): a page submitted by its timeout stores, for each field that was missing or invalid,
the value the dict gives it, and its type's default for the others. The same bots pass on
oTree 6.0.15 (``otree test offers``)."""

from __future__ import annotations

from pathlib import Path

from server.bots.runner import run_bots
from server.config import load_settings
from tests import databases

APP = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "offers"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    offer = models.CurrencyField(min=0, max=10)
    accept = models.BooleanField()
    note = models.StringField()
    count = models.IntegerField()


class Offer(Page):
    form_model = "player"
    form_fields = ["offer", "accept", "note", "count"]
    timeout_seconds = 60
    timeout_submission = {"offer": cu(5), "accept": True, "note": "timed out"}


class Done(Page):
    pass


page_sequence = [Offer, Done]
"""

BOTS = """\
from otree.api import *
from . import *


class PlayerBot(Bot):
    def play_round(self):
        yield Submission(Offer, dict(offer=99, count=4), timeout_happened=True, check_html=False)
        expect(self.player.offer, cu(5))  # invalid: the dict's value
        expect(self.player.accept, True)  # missing: the dict's value
        expect(self.player.note, "timed out")
        expect(self.player.count, 4)  # valid: kept
        yield Done
"""


def test_a_timed_out_page_takes_the_values_of_its_timeout_submission(tmp_path: Path):
    root = tmp_path / "project"
    (root / "offers").mkdir(parents=True)
    (root / "settings.py").write_text(
        'SESSION_CONFIGS = [dict(name="offers", app_sequence=["offers"], '
        "num_demo_participants=1)]\n"
        'SECRET_KEY = "x"\n'
    )
    (root / "offers" / "__init__.py").write_text(APP)
    (root / "offers" / "tests.py").write_text(BOTS)
    for page in ("Offer", "Done"):
        (root / "offers" / f"{page}.html").write_text(
            "{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}\n"
        )
    settings = load_settings(root, {})
    [result] = run_bots(settings, "offers", database_url=databases.database_url(tmp_path))
    assert result.ok, result.error
