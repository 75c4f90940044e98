"""CSV exports never hand a spreadsheet a formula: text starting with = + - @ (or a tab or a
carriage return) gets a leading apostrophe; numbers stay numbers; JSON answers are unchanged.
"""

from __future__ import annotations

import csv
import io
import re
import textwrap
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from server.bots.runner import run_bots
from server.config import load_settings
from server.csv_cells import from_spreadsheet_cell, spreadsheet_cell
from server.randomization.transfer import export_history, history_csv, import_history
from tests import databases
from tests.conftest import create_demo_session

FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"]
PLAIN = ["plain text", "a=b", "'quoted", "3-2"]
CHAT_FORMULAS = FORMULAS[:4]  # a chat message is stripped of surrounding whitespace


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_gets_an_apostrophe_and_reads_back(text):
    assert spreadsheet_cell(text) == "'" + text
    assert from_spreadsheet_cell(spreadsheet_cell(text)) == text
    assert from_spreadsheet_cell(spreadsheet_cell("'" + text)) == "'" + text


@pytest.mark.parametrize("value", [*PLAIN, -5, -0.5, 0, True, None, ""])
def test_other_cells_are_written_as_they_are(value):
    assert spreadsheet_cell(value) == value


def _chat_token(html: str) -> str:
    return re.search(r'class="grove-chat" data-url="[^"]+" data-token="([^"]+)"', html).group(1)


def test_chat_export_shows_formulas_as_text(client):
    code, links = create_demo_session(client, "prisoner")
    page_url = client.get(links[0], follow_redirects=False).headers["location"]
    token = _chat_token(client.get(page_url).text)
    chat_url = page_url.split("/prisoner/")[0] + "/chat"
    for body in [*CHAT_FORMULAS, *PLAIN]:
        sent = client.post(chat_url, json={"token": token, "body": body})
        assert sent.json()["ok"] is True, sent.text
    # The JSON a chat box reads is what was sent.
    read = client.get(chat_url, params={"token": token}).json()["messages"]
    assert [m["body"] for m in read] == [*CHAT_FORMULAS, *PLAIN]
    exported = client.get(f"/SessionChat/{code}.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    bodies = [row["body"] for row in rows]
    assert bodies[: len(CHAT_FORMULAS)] == ["'" + b for b in CHAT_FORMULAS]
    assert bodies[len(CHAT_FORMULAS) :] == PLAIN
    assert all(row["session_id"].isdigit() for row in rows)


_APP = """
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "notes"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    note = models.StringField()
    amount = models.IntegerField(min=None)  # negatives are typed: no minimum
    ratio = models.FloatField(min=None)


class Enter(Page):
    form_model = "player"
    form_fields = ["note", "amount", "ratio"]


page_sequence = [Enter]
"""

_BOT = """
from server.api import Bot

from . import Enter


class PlayerBot(Bot):
    def play_round(self):
        yield Enter, dict(note=["=1+1", "-x", "fine"][self.participant.id_in_session - 1],
                          amount=-5, ratio=-0.5)
"""


def _notes_project(root: Path) -> Path:
    (root / "apps" / "notes").mkdir(parents=True)
    (root / "apps" / "notes" / "__init__.py").write_text(_APP)
    (root / "apps" / "notes" / "tests.py").write_text(_BOT)
    (root / "apps" / "notes" / "Enter.html").write_text(
        "{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}"
    )
    (root / "settings.py").write_text(
        "SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.0, participation_fee=0.0)\n"
    )
    (root / "session_configs.py").write_text(
        textwrap.dedent(
            """
            SESSION_CONFIGS = [dict(name="notes", app_sequence=["notes"], num_demo_participants=3)]
            """
        )
    )
    return root


def test_data_export_shows_formulas_as_text_and_numbers_as_numbers(tmp_path):
    """``python -m server test notes --export DIR``'s CSV, as run_bots writes it."""
    root = _notes_project(tmp_path / "project")
    results = run_bots(
        load_settings(root, {}),
        "notes",
        export_dir=tmp_path / "export",
        database_url=databases.database_url(tmp_path, "bots"),
    )
    assert all(result.ok for result in results), [result.error for result in results]
    with (tmp_path / "export" / "notes.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["player.note"] for row in rows] == ["'=1+1", "'-x", "fine"]
    assert {row["player.amount"] for row in rows} == {"-5"}
    assert {row["player.ratio"] for row in rows} == {"-0.5"}


def test_urn_history_csv_shows_formulas_as_text_and_imports_them_back(settings):
    app = create_app(settings)
    try:
        with app.state.grove.db.transaction() as db:
            key = create_key(db, "alice")
        with TestClient(app) as client:
            client.headers.update({"otree-rest-key": key})
            study = client.post(
                "/api/sessions/",
                json={"session_config_name": "randomized_trial", "num_participants": 2},
            ).json()["code"]
            for participant in ["=1+1", "@me", "P1"]:
                response = client.post(
                    "/study_participants",
                    params={
                        "api_key": key,
                        "study": study,
                        "id": participant,
                        "age_group": "18-40",
                        "sex": "Male",
                    },
                )
                assert response.status_code == 200, response.text
            listed = client.get("/study_participants", params={"api_key": key, "study": study})
            assert [row["id"] for row in listed.json()["results"]] == ["=1+1", "@me", "P1"]
        with app.state.grove.db.read() as db:
            text = history_csv(export_history(db, study))
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert [row["id"] for row in rows] == ["'=1+1", "'@me", "P1"]
        assert all(row["sequence"].isdigit() for row in rows)
        # The file reads back as the ids it was written from (into a study of its own).
        with TestClient(app) as client:
            client.headers.update({"otree-rest-key": key})
            other = client.post(
                "/api/sessions/",
                json={"session_config_name": "randomized_trial", "num_participants": 2},
            ).json()["code"]
        with app.state.grove.db.transaction() as db:
            assert import_history(db, other, csv.DictReader(io.StringIO(text, newline=""))) == 3
        with app.state.grove.db.read() as db:
            again = export_history(db, other)
        assert [row["id"] for row in again["assignments"]] == ["=1+1", "@me", "P1"]
    finally:
        app.state.grove.db.dispose()
