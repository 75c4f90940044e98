"""An oTree project folder, in oTree's own layout, runs on Grove unchanged (issue 17).

``tests/projects/otree_dropin`` was written by the team as an oTree 6 user writes a project:
``settings.py`` holds SESSION_CONFIGS, the apps are folders at the root importing
``from otree.api import *``, labels are in ``_rooms/``, files in ``_static/`` and an app's
``static/``, one app is in oTree 5's style (``class Constants`` with lowercase names,
templates in ``intro/templates/intro/``, ``{% %}`` tags), and the other uses ExtraModel,
custom_export, ``group.set_players``, roles, ``get_template_name`` and another app's module.
The same folder passes ``otree test`` on oTree 6.0.15 itself; the facts checked below were
read off oTree 6.0.15 serving it (German words, the table of radio buttons, the layouts).

Each test copies the folder, as a user's project would be, and meets it as a user does: the
bots, and participants' browsers filling the HTML the pages send. The same folder run with the
installed ``otree`` command is in tests/test_installed_package.py.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.bots.html_form import page_form
from server.bots.runner import run_bots
from server.config import Settings, load_settings
from tests import databases
from tests.conftest import copied_project, participant_links
from tests.form_filling import Click, entered_values

PROJECT = Path(__file__).resolve().parent / "projects" / "otree_dropin"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project folder, as it would sit on an experimenter's disk."""
    folder = tmp_path / "my_otree_project"
    copied_project(PROJECT, folder)
    return folder


@pytest.fixture
def settings(project: Path, tmp_path: Path) -> Settings:
    return load_settings(project, {"DATABASE_URL": databases.database_url(tmp_path)})


# What each page's participant types or clicks (by the page's name in its URL). A value is
# typed text, Click(label) for a labelled radio button, or the value of an unlabelled radio
# button drawn by hand ({{ for choice in field }} renders the input alone, as oTree's does).
Answers = dict[str, Any] | Callable[[str], dict[str, Any]]
ANSWERS: dict[str, Answers] = {
    "Welcome": {"nickname": "Ada", "age": "30", "consent": Click("Ja")},
    "Rating": {"fairness": "4", "clarity": "5"},
    "Propose": lambda html: {"price": "45"},
    "Respond": {"accept": Click("Ja")},
    "Results": {},
}
LAST_PAGE = "PaymentInfo"


class Browser:
    """One participant's browser: opens their link, fills each page, waits on wait pages."""

    def __init__(self, client: TestClient, link: str) -> None:
        self.client = client
        self.url = link
        self.pages: list[str] = []
        self.html = ""

    @property
    def page_name(self) -> str:
        match = re.match(r"/p/\w+/\w+/(\w+)/\d+", self.url)
        return match.group(1) if match else ""

    def step(self) -> str:
        """Open the current page; submit it if it has a form. Returns what happened:
        ``submitted``, ``waiting`` or ``done`` (the last page, which has no button)."""
        response = self.client.get(self.url, follow_redirects=True)
        assert response.status_code == 200, response.text
        self.url, self.html = response.url.path, response.text
        if 'id="grove-wait"' in self.html:
            return "waiting"
        if self.page_name == LAST_PAGE:
            assert "otree-btn-next" not in self.html
            return "done"
        answers = ANSWERS[self.page_name]
        actions = answers(self.html) if callable(answers) else answers
        form = page_form(self.html)
        submitted = self.client.post(
            form.action or self.url,
            data=dict(form.submission(entered_values(form, actions))),
            follow_redirects=False,
        )
        assert submitted.status_code in (302, 303), (self.page_name, submitted.text)
        self.pages.append(self.page_name)
        self.url = submitted.headers["location"]
        return "submitted"


def play_session(client: TestClient, config: str) -> tuple[str, list[Browser]]:
    """Create a demo session of ``config`` and play it to the end in every browser."""
    created = client.post(f"/demo/{config}", follow_redirects=False)
    assert created.status_code == 303, created.text
    code = created.headers["location"].rsplit("/", 1)[-1]
    browsers = [
        Browser(client, link)
        for link in participant_links(client.get(created.headers["location"]).text)
    ]
    for _ in range(200):
        states = [b.step() for b in browsers]
        if all(s == "done" for s in states):
            return code, browsers
    raise AssertionError(f"{config}: not finished: {[(b.url, b.pages) for b in browsers]}")


def test_every_config_is_completed_by_browsers_over_http(client: TestClient) -> None:
    _, (alone,) = play_session(client, "intro_only")
    assert alone.pages == ["Welcome", "Rating"]
    # Payoff 0 Taler (POINTS_CUSTOM_NAME) plus the config's fee of 5.00 EUR, in German.
    assert "Auszahlung: 5,00" in alone.html
    _, pair = play_session(client, "bargain")
    # Each plays Welcome and Rating, then sells in one round of each pair of rounds.
    assert sorted(pair[0].pages[:2]) == ["Rating", "Welcome"]
    sold = [b.pages.count("Propose") for b in pair]
    bought = [b.pages.count("Respond") for b in pair]
    assert sorted(sold) == [1, 2]
    assert [s + b for s, b in zip(sold, bought, strict=True)] == [3, 3]
    assert all(b.pages.count("Results") == 3 for b in pair)


def test_bots_of_every_config_pass(settings: Settings) -> None:
    for config in ("bargain", "intro_only"):
        results = run_bots(settings, config)
        assert results, config
        for result in results:
            assert result.ok, (config, result.error, result.failed_where)
            assert result.pages > 0


def test_demo_page_and_settings(client: TestClient) -> None:
    demo = client.get("/demo").text
    assert "<h1>Testlabor</h1>" in demo
    assert "Two sample games in oTree&#39;s own layout." in demo or "oTree's own layout" in demo
    assert "Bargaining in pairs, three rounds" in demo


def test_templates_static_files_and_layout_blocks(client: TestClient) -> None:
    _, links = _session(client, "intro_only")
    page = client.get(links[0], follow_redirects=True)
    html = page.text
    assert '<html lang="de">' in html
    assert ">Weiter</button>" in html
    # {% static %} of the app's static/ folder, served under /static/.
    assert 'src="/static/intro/logo.svg"' in html
    logo = client.get("/static/intro/logo.svg")
    assert logo.status_code == 200
    assert "<svg" in logo.text
    # app_styles and app_scripts of the page reach the layout.
    assert 'href="/static/intro/intro.css"' in html
    assert "window.introScript = true;" in html
    # {{ comment }} hides, {{ empty }} shows for an empty list, {% formfield label= %}.
    assert "experimenters only" not in html
    assert "<li>Keine Themen</li>" in html
    assert "Wie sollen wir Sie nennen?" in html
    # Participant text in a template is escaped (oTree 6's linebreaks is a no-op shim that
    # passes HTML through; Grove's is Django's: paragraphs, line breaks, escaped).
    assert "&lt;b&gt;fett?&lt;/b&gt;" in html
    assert "<b>fett?</b>" not in html
    form = page_form(html)
    assert [o.label for o in form.choices("consent")] == ["Ja", "Nein"]
    # A refused field shows Grove's message in German beside it.
    refused = client.post(
        page.url.path,
        data=dict(
            form.submission(
                entered_values(form, {"nickname": "A", "age": "5", "consent": Click("Ja")})
            )
        ),
    )
    assert "Zahl muss zwischen 16 und 99 liegen." in refused.text  # oTree 6.0.15 (WTForms)
    moved = client.post(
        page.url.path,
        data=dict(form.submission(entered_values(form, ANSWERS["Welcome"]))),  # type: ignore[arg-type]
        follow_redirects=True,
    )
    rating = moved.text
    # The page that extends global/Page.html gets the project's global blocks.
    assert 'href="/static/global/lab.css"' in rating
    assert 'window.labLayout = "global";' in rating
    assert client.get("/static/global/lab.css").status_code == 200
    # Radio buttons in a table: one input per cell, the field's label in the row head.
    table = re.search(r'<table class="table" id="rating-table">(.*?)</table>', rating, re.S)
    assert table is not None
    assert table.group(1).count('type="radio"') == 10
    assert "Wie fair war die Anleitung?" in table.group(1)
    # The page's error_message: the form's error, not a field's.
    both_low = client.post(moved.url.path, data={"fairness": "1", "clarity": "1"})
    assert "Bitte nicht zweimal die niedrigste Stufe." in both_low.text


def _session(client: TestClient, config: str) -> tuple[str, list[str]]:
    created = client.post(f"/demo/{config}", follow_redirects=False)
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    return location.rsplit("/", 1)[-1], participant_links(client.get(location).text)


def test_room_labels_from_underscore_rooms(client: TestClient) -> None:
    """The room's labels come from _rooms/econ101.txt: carol is let in, mallory is not."""
    listed = client.get("/room/econ101?participant_label=carol", follow_redirects=True)
    assert listed.status_code == 200, listed.text
    assert 'value="carol"' in listed.text
    unlisted = client.get("/room/econ101?participant_label=mallory", follow_redirects=True)
    assert unlisted.status_code in (403, 404), unlisted.text


def test_extra_model_rows_and_custom_export(client: TestClient) -> None:
    code, _ = play_session(client, "bargain")
    exported = client.get("/api/export/bargain/custom_export")
    assert exported.status_code == 200, exported.text
    rows = _rows(exported)
    assert rows[0] == ["session", "participant", "round_number", "role", "amount", "withdrawn"]
    offers = [r for r in rows[1:] if r[0] == code]
    # One real offer per round; the drafts were deleted in after_all_players_arrive.
    assert sorted(r[2] for r in offers) == ["1", "2", "3"]
    assert {r[5] for r in offers} == {"False"} or {r[5] for r in offers} == {"0"}
    assert all(r[3] == "Verkäufer" for r in offers)


def test_browser_participants_are_not_bots(client: TestClient, settings: Settings) -> None:
    """participant._is_bot: False for people in browsers, True in a bot run (bargain's
    Player.is_bot copies it in Propose; the bots expect True)."""
    code, _ = play_session(client, "bargain")
    exported = client.get(f"/api/sessions/{code}/data?format=csv")
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert {row["participant._is_bot"] for row in rows} in ({"0"}, {"False"})
    assert {row["bargain.1.player.is_bot"] for row in rows} <= {"0", "False", ""}


def _rows(response: Any) -> list[list[str]]:
    if response.headers["content-type"].startswith("application/json"):
        body = response.json()
        return [[str(v) for v in row] for row in body.get("rows", body)]
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
