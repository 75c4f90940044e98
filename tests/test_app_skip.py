"""A participant who skips an app with ``app_after_this_page`` does not hold up the group's
wait pages in the apps skipped, and a select left on its empty option stores ``""``.

``tests/projects/app_skip`` is an oTree project in oTree's layout: three participants give
consent or not (``consent``), those who agree pick a number in ``game``, whose wait page sums
the numbers for the whole group (``PLAYERS_PER_GROUP = None``), and who declines skips to
``end``. Expected values are oTree 6.0.15's, running the same folder (``otree test skip``):

- a wait page counts a participant whose page index is past it as arrived (oTree's
  ``WaitPage._tally_unvisited``: ``p._index_in_pages >= self._index_in_pages``), and a
  participant skipping apps passes each wait page on the way as arrived, releasing whoever
  waits there (``Page._increment_index_in_pages``): the two who agree reach Results with
  ``total`` 3 from 2 players, whoever came first;
- a ``StringField(choices=..., blank=True)`` shown as a select and submitted on its empty
  ``--------`` option stores ``""`` (oTree's DropdownField coerces with ``str``), as a text
  box left empty does; an IntegerField's select stores None;
- an amount in an app's ``C`` (``BONUS = cu(0.75)``) rounds as the project's currency does
  when the app is imported: with ``USE_POINTS = False``, ``otree test skip --export`` gives
  the two who pick a ``player.payoff`` of 0.75 in game.csv, and with consent's show-up bonus
  of ``cu(0.07)`` a ``participant.payoff`` of 0.82 in every file.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.bots.html_form import page_form
from server.bots.runner import run_bots
from server.config import Settings, load_settings
from tests import databases
from tests.conftest import REPO_ROOT, copied_project, create_demo_session
from tests.form_filling import Click, fill_and_submit

PROJECT = Path(__file__).resolve().parent / "projects" / "app_skip"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    folder = tmp_path / "app_skip"
    copied_project(PROJECT, folder)
    return load_settings(folder, {"DATABASE_URL": databases.database_url(tmp_path)})


def _start(client: TestClient, link: str) -> str:
    page = client.get(link, follow_redirects=True)
    assert page.status_code == 200, page.text
    return page.url.path


def _consent(client: TestClient, url: str, answer: str) -> str:
    submitted = fill_and_submit(client, url, {"agree": Click(answer)})
    assert submitted.status_code == 303, submitted.text
    return submitted.headers["location"]


def _pick(client: TestClient, url: str, number: int) -> str:
    submitted = fill_and_submit(client, url, {"number": str(number)})
    assert submitted.status_code == 303, submitted.text
    return submitted.headers["location"]


def _page_name(client: TestClient, url: str) -> tuple[str, str]:
    page = client.get(url, follow_redirects=True)
    assert page.status_code == 200, page.text
    match = re.match(r"/p/\w+/\w+/(\w+)/\d+", page.url.path)
    assert match, page.url.path
    return match.group(1), page.text


def test_the_bots_pass_as_on_otree(settings: Settings) -> None:
    [result] = run_bots(settings, "skip")
    assert result.ok, (result.error, result.failed_where)


@pytest.mark.parametrize("decliner_goes", ["last", "first"])
def test_who_skips_the_game_does_not_hold_up_its_wait_page(
    client: TestClient, decliner_goes: str
) -> None:
    _, links = create_demo_session(client, "skip")
    first, second, decliner = (_start(client, link) for link in links)
    if decliner_goes == "first":
        assert _page_name(client, _consent(client, decliner, "No"))[0] == "Thanks"
    waiting = [
        _pick(client, _consent(client, url, "Yes"), n) for url, n in ((first, 1), (second, 2))
    ]
    if decliner_goes == "last":
        assert _page_name(client, waiting[0])[0] == "SumWaitPage"
        assert _page_name(client, _consent(client, decliner, "No"))[0] == "Thanks"
    for url in waiting:
        name, html = _page_name(client, url)
        assert name == "Results"
        assert '<p id="total">3 from 2 players</p>' in html


def test_a_select_left_on_its_empty_option_stores_empty_text(client: TestClient) -> None:
    code, links = create_demo_session(client, "skip")
    _consent(client, _start(client, links[0]), "No")
    data = client.get(f"/api/sessions/{code}/data", params={"format": "json"})
    assert data.status_code == 200, data.text
    rows = data.json()
    rows = rows["rows"] if isinstance(rows, dict) else rows
    first = next(r for r in rows if r["participant.id_in_session"] == 1)
    assert first["consent.1.player.heard_from"] == ""
    assert first["consent.1.player.agree"] is False


@pytest.mark.slow  # a subprocess loading Grove: about 3 s
def test_an_amount_in_c_rounds_as_the_projects_currency_in_the_bots_command(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "app_skip"
    copied_project(PROJECT, folder)
    settings_file = folder / "settings.py"
    settings_file.write_text(
        settings_file.read_text().replace("USE_POINTS = True", "USE_POINTS = False")
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    environment["DATABASE_URL"] = databases.database_url(tmp_path, "bots")
    ran = subprocess.run(
        [sys.executable, "-m", "server", "test", "skip", "--export", str(tmp_path / "out")],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    with (tmp_path / "out" / "game.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["player.payoff"] for row in rows) == ["0.0", "0.75", "0.75"]
    # The show-up bonus 0.07 plus 0.75: oTree's participant.payoff is an amount, 0.82 (not
    # the float sum 0.8200000000000001), here and in the wide export.
    assert sorted(row["participant.payoff"] for row in rows) == ["0.07", "0.82", "0.82"]
    with (tmp_path / "out" / "all_apps_wide.csv").open(newline="", encoding="utf-8") as handle:
        wide = list(csv.DictReader(handle))
    assert sorted(row["participant.payoff"] for row in wide) == ["0.07", "0.82", "0.82"]


def test_the_selects_empty_option_reads_as_otrees(client: TestClient) -> None:
    # oTree 6.0.15 renders <option value="">--------</option> (eight dashes) first.
    _, links = create_demo_session(client, "skip")
    page = client.get(links[0], follow_redirects=True)
    options = page_form(page.text).controls_named("heard_from")[0].options
    assert (options[0].value, options[0].label) == ("", "--------")
