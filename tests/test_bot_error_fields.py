"""Bots: ``SubmissionMustFail(..., error_fields=[...])`` and ``participant._is_bot``, with oTree
6.0.15's behaviour as the expected value (``otree test`` on the same app and bots): with
``error_fields`` the fields that got errors must be exactly those (a set; ``"__all__"`` for
``error_message``'s error), else the run fails ("Expected error_fields were {'amount'}, but
actual error_fields are {'__all__'}"); without it any rejection passes. Grove's bot reads the
errors from the page it got back. A bot's participants have ``_is_bot`` True, in app code and
in the export.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import fields_with_errors, run_bots
from server.config import load_settings
from tests import databases

EXTRAS = Path(__file__).resolve().parent / "projects" / "extras"


def _run(tmp_path: Path, config: str):
    settings = load_settings(EXTRAS, {})
    return run_bots(settings, config, database_url=databases.database_url(tmp_path))


def test_error_fields_that_match_the_pages_errors_pass_and_bots_are_marked(tmp_path):
    url = databases.database_url(tmp_path)
    [result] = run_bots(load_settings(EXTRAS, {}), "market", database_url=url)
    assert result.ok, result.error
    rejected = [line for line in result.log if line.endswith("Bidding: rejected as expected")]
    assert len(rejected) == 4 * 4
    app = create_app(load_settings(EXTRAS, {"DATABASE_URL": url}))
    with TestClient(app) as client:
        export = client.get("/api/export/market", params={"session": result.session_code})
    app.state.grove.db.dispose()
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [row["participant._is_bot"] for row in rows] == ["1"] * 4
    assert [row["player.was_bot"] for row in rows] == ["1"] * 4


def test_a_field_left_out_of_error_fields_fails_the_run(tmp_path):
    [result] = _run(tmp_path, "too_few_fields")
    assert not result.ok
    assert (
        "page Bidding: SubmissionMustFail expected errors in the fields ['num_bids'], but the "
        "page shows errors in ['amount', 'num_bids']"
    ) in result.error
    assert result.failed_page == "Bidding"


def test_the_whole_forms_error_is_not_a_fields(tmp_path):
    [result] = _run(tmp_path, "wrong_field")
    assert not result.ok
    assert "expected errors in the fields ['amount'], but the page shows errors in ['__all__']" in (
        result.error
    )


def test_the_errors_are_read_from_the_markup_beside_each_field():
    html = (
        '<div class="grove-error" data-grove-error-field="__all__">No.</div>'
        '<div class="invalid-feedback grove-error" data-grove-error-field="age">Too old.</div>'
        '<div class="grove-error" data-grove-error-field="age">Too old.</div>'
    )
    assert fields_with_errors(html) == {"__all__", "age"}
    assert fields_with_errors("<p>fine</p>") == set()


HTML_APP = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "sums"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    int1 = models.IntegerField()
    int2 = models.IntegerField(max=10)


class Sums(Page):
    form_model = "player"
    form_fields = ["int1", "int2"]

    @staticmethod
    def error_message(player, values):
        if values["int1"] + values["int2"] != 10:
            return "The numbers must add up to 10"


class Done(Page):
    pass


page_sequence = [Sums, Done]
"""

HTML_BOTS = """\
from otree.api import *
from . import *


class PlayerBot(Bot):
    def play_round(self):
        expect("The numbers must", "not in", self.html)
        yield SubmissionMustFail(Sums, dict(int1=5, int2=6))
        expect("The numbers must add up to 10", "in", self.html)
        yield SubmissionMustFail(Sums, dict(int1=5, int2=11), error_fields=["int2"])
        expect("The numbers must", "not in", self.html)
        expect('name="int2"', "in", self.html)
        yield Sums, dict(int1=4, int2=6)
        expect("You entered 4 and 6 .", "in", self.html)
        yield Done
"""


def test_self_html_is_the_rejected_page_then_the_next_with_spaces_collapsed(tmp_path):
    """oTree (bots.rst): ``self.html`` is updated after every ``yield``, so after a
    SubmissionMustFail it is the page with the errors; "linebreaks and extra spaces are
    ignored". Measured on oTree 6.0.15 with the same bots."""
    root = tmp_path / "project"
    (root / "sums").mkdir(parents=True)
    (root / "settings.py").write_text(
        'SESSION_CONFIGS = [dict(name="sums", app_sequence=["sums"], num_demo_participants=1)]\n'
        'SECRET_KEY = "x"\n'
    )
    (root / "sums" / "__init__.py").write_text(HTML_APP)
    (root / "sums" / "tests.py").write_text(HTML_BOTS)
    (root / "sums" / "Sums.html").write_text(
        "{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}\n"
    )
    (root / "sums" / "Done.html").write_text(
        "{{ block content }}<p>You entered {{ player.int1 }}\n   and\n"
        "{{ player.int2 }} .</p>{{ next_button }}{{ endblock }}\n"
    )
    [result] = run_bots(
        load_settings(root, {}), "sums", database_url=databases.database_url(tmp_path)
    )
    assert result.ok, result.error
