"""Reading a Player, Group or Subsession field that holds None is an error in app code, as
oTree documents ("field_maybe_none", misc_tips_and_tricks.rst): the app's bug shows up in
its bots and on the participant's page instead of as "None" on the page.

tests/projects/null_fields has one session config per way of reading such a field. Measured
on oTree 6.0.15 (the same app, ``otree.api``): every ``raises_*`` config fails ``otree test``
with a TypeError naming ``<model>.<field>``, every ``reads_*`` config passes. oTree raises
for the fields of rows it loaded only: in ``creating_session`` the players and groups it has
just created read freely (the subsession raises), as does a group just formed by arrival in
its ``after_all_players_arrive``; ExtraModel, participant and session fields never raise.

Grove's own reads (forms, wait pages, exports, admin data) keep reading None.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.__main__ import main
from server.app import create_app
from server.bots.runner import run_bots
from server.config import load_settings
from tests import databases
from tests.conftest import copied_project

NULL_FIELDS = Path(__file__).resolve().parent / "projects" / "null_fields"

RAISES = {
    "raises_in_bot": "player.answer",
    "raises_in_vars_for_template": "player.answer",
    "raises_in_template": "player.answer",
    "raises_in_is_displayed": "player.answer",
    "raises_in_before_next_page": "player.amount",
    "raises_on_currency_field": "player.amount",
    "raises_on_group_field": "group.total",
    "raises_on_subsession_field": "subsession.bonus",
    "raises_on_earlier_round": "player.amount",
    "raises_in_after_all_players_arrive": "group.total",
    "raises_on_subsession_in_creating_session": "subsession.bonus",
    "raises_in_field_display": "player.answer",
}
READS = [
    "reads_with_field_maybe_none",
    "reads_players_and_groups_in_creating_session",
    "reads_extra_model_field",
    "reads_participant_label",
    "reads_after_setting",
    "reads_group_formed_by_arrival",
]


@pytest.mark.parametrize(("config", "field"), sorted(RAISES.items()))
def test_bots_fail_where_app_code_reads_an_unset_field(config, field, tmp_path):
    settings = load_settings(NULL_FIELDS, {})
    outcomes = run_bots(settings, config, database_url=databases.database_url(tmp_path, "bots"))
    assert outcomes
    [outcome] = outcomes
    assert not outcome.ok
    name = field.split(".")[1]
    assert f"{field} is None" in outcome.error, outcome.error
    assert f"field_maybe_none('{name}')" in outcome.error, outcome.error


@pytest.mark.parametrize("config", READS)
def test_bots_pass_where_otree_reads_freely(config, tmp_path):
    settings = load_settings(NULL_FIELDS, {})
    outcomes = run_bots(settings, config, database_url=databases.database_url(tmp_path, "bots"))
    assert [outcome.error for outcome in outcomes] == [None]


def test_otree_test_names_the_field_and_the_bots_line(monkeypatch, capsys, tmp_path):
    root = copied_project(NULL_FIELDS, tmp_path / "project")
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))

    status = main(["test", "raises_in_bot"])
    out, err = capsys.readouterr()

    assert status == 1
    assert "raises_in_bot: FAILED on page Question (unset round 1)" in out
    assert "player.answer is None" in err
    assert 'apps/unset/tests.py", line 9, in play_round' in err


def test_export_after_bots_leaves_unset_fields_empty(monkeypatch, capsys, tmp_path):
    """The export (Grove's own reading) writes an empty cell for a field never set."""
    root = copied_project(NULL_FIELDS, tmp_path / "project")
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))

    status = main(["test", "reads_after_setting", "--export", str(tmp_path / "out")])
    capsys.readouterr()

    assert status == 0
    with (tmp_path / "out" / "unset.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    assert {(r["player.answer"], r["player.amount"], r["group.total"]) for r in rows} == {
        ("2", "", "")
    }


def _session(client: TestClient, config: str) -> list[str]:
    created = client.post(
        "/api/sessions/", json={"session_config_name": config, "num_participants": 2}
    )
    assert created.status_code == 200, created.text
    session = client.get(f"/api/sessions/{created.json()['code']}").json()
    return [p["code"] for p in session["participants"]]


@pytest.fixture
def client(tmp_path: Path):
    settings = load_settings(
        copied_project(NULL_FIELDS, tmp_path / "project"),
        {"DATABASE_URL": databases.database_url(tmp_path)},
    )
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        app.state.grove.db.dispose()


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ("raises_in_vars_for_template", "(in apps/unset/__init__.py, line 59, in <lambda>)"),
        ("raises_in_template", "unset/Question.html"),
    ],
)
def test_the_participant_page_fails_naming_the_field(client, config, line):
    """oTree answers 500 with its error page; so does Grove, and names the field."""
    [code, _other] = _session(client, config)
    page = client.get(f"/InitializeParticipant/{code}")
    text = html.unescape(page.text)
    assert page.status_code == 500
    assert "TypeError: player.answer is None" in text
    assert "player.field_maybe_none('answer')" in text
    assert line in text


def test_a_page_that_reads_no_unset_field_renders_its_empty_form(client):
    """The form of a field never set (Grove reads it for the form) shows no choice made."""
    [code, _other] = _session(client, "reads_with_field_maybe_none")
    page = client.get(f"/InitializeParticipant/{code}")
    assert page.status_code == 200
    assert "shown: None" in page.text
    [select] = re.findall(r'<select[^>]*name="answer".*?</select>', page.text)
    assert '<option value="">--------</option>' in select
    assert "selected" not in select
