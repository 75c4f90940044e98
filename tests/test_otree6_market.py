"""A lab's oTree 6 market game, ported as it is (tests/projects/otree6_market).

The folder is in oTree's layout and passes ``otree test market`` on oTree 6.0.15. Every expected
value below was read off oTree 6.0.15 serving the same folder (``otree devserver``): the pages
two participants' browsers got, and the REST API's answers.
"""

from __future__ import annotations

import csv
import gc
import io
import logging
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import page_form
from server.bots.runner import run_bots
from server.config import Settings, load_settings
from tests import databases
from tests.conftest import copied_project
from tests.rest_helpers import HEADERS, REST_KEY

PROJECT = Path(__file__).resolve().parent / "projects" / "otree6_market"
ANSWERS = {"Offer": {"price": "7"}, "Decide": {"accept": "True"}, "Results": {}}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    folder = tmp_path / "market_project"
    copied_project(PROJECT, folder)
    database_url = databases.database_url(tmp_path)
    return load_settings(folder, {"DATABASE_URL": database_url}).with_changes(rest_key=REST_KEY)


def create_session(client: TestClient) -> str:
    """A two-participant session made over the REST API, as a lab's script makes it."""
    body = {"session_config_name": "market", "num_participants": 2}
    created = client.post("/api/sessions", json=body, headers=HEADERS)
    assert created.status_code in (200, 201), created.text
    return created.json()["code"]


def participants(client: TestClient, code: str) -> list[dict]:
    answer = client.get(f"/api/sessions/{code}", headers=HEADERS)
    assert answer.status_code == 200, answer.text
    return answer.json()["participants"]


def play(client: TestClient, code: str, pages: dict[str, list[str]] | None = None) -> list[str]:
    """Both participants' browsers play to the end; returns each Results page's HTML (and
    puts each page's HTML in ``pages`` by page name)."""
    urls = {p["code"]: f"/InitializeParticipant/{p['code']}" for p in participants(client, code)}
    results: list[str] = []
    for _ in range(40):
        for participant, url in urls.items():
            page = client.get(url, follow_redirects=True)
            assert page.status_code == 200, page.text
            urls[participant] = page.url.path
            match = re.match(r"/p/\w+/market/(\w+)/\d+", page.url.path)
            if match is None or match.group(1) not in ANSWERS:
                continue
            if match.group(1) == "Results":
                results.append(page.text)
            if pages is not None:
                pages.setdefault(match.group(1), []).append(page.text)
            form = page_form(page.text)
            fields = dict(form.submission({}))
            fields.update(ANSWERS[match.group(1)])
            sent = client.post(form.action or page.url.path, data=fields, follow_redirects=True)
            assert sent.status_code == 200, sent.text
            urls[participant] = sent.url.path
    return results


def shown(html: str, element_id: str) -> str:
    match = re.search(rf'<p id="{element_id}">([^<]*)</p>', html)
    assert match, html
    return match.group(1)


def test_a_list_of_amounts_prints_each_amount_as_otree_does(client: TestClient) -> None:
    # A template printing a list prints each element's repr: oTree 6.0.15 showed
    # "[7cu]", then "[7cu, 7cu]", and "[3cu, -2cu]" for [cu(10) / 4, -cu(10) / 5].
    results = play(client, create_session(client))
    assert len(results) == 4
    assert [shown(html, "prices") for html in results] == [
        "Prices so far: [7cu]",
        "Prices so far: [7cu]",
        "Prices so far: [7cu, 7cu]",
        "Prices so far: [7cu, 7cu]",
    ]
    assert {shown(html, "shares") for html in results} == {"Shares: [3cu, -2cu]"}


def test_the_bots_pass(settings: Settings) -> None:
    results = run_bots(settings, "market")
    assert results
    for result in results:
        assert result.ok, (result.error, result.failed_where)
        assert result.pages > 0


def test_participant_status_is_set_by_the_app_and_read_over_rest(client: TestClient) -> None:
    # oTree 6's participant.status (its version history, "participant.status"): a text the
    # app sets, "" until then; oTree 6.0.15 answered "status": "" for each participant of a
    # new session and "status": "done" once the last page had set it.
    code = create_session(client)
    assert [p["status"] for p in participants(client, code)] == ["", ""]
    play(client, code)
    assert [p["status"] for p in participants(client, code)] == ["done", "done"]


def test_a_project_that_declares_status_keeps_running(settings: Settings) -> None:
    # A project written for oTree 5 may list "status" in PARTICIPANT_FIELDS (oTree 6 refuses
    # it at start as reserved); on Grove it is then the participant's own status, whose value
    # the wide export shows in the declared field's column.
    declared = settings.with_changes(participant_fields=("market_earnings", "status"))
    app = create_app(declared)
    try:
        with TestClient(app) as client:
            code = create_session(client)
            play(client, code)
            export = client.get(
                "/api/export/all_apps_wide", params={"session": code}, headers=HEADERS
            )
    finally:
        app.state.grove.db.dispose()
    assert export.status_code == 200, export.text
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [row["participant.status"] for row in rows] == ["done", "done"]


def declaring_status(settings: Settings, status_source: str) -> Settings:
    """The market project as an oTree 5 project has it: ``status`` among its
    PARTICIPANT_FIELDS, its last page setting ``participant.status`` to the Python expression
    ``status_source`` and its bots expecting that value there."""
    for name in ("__init__.py", "tests.py"):
        path = settings.root / "market" / name
        source = path.read_text("utf-8")
        assert "'done'" in source
        path.write_text(source.replace("'done'", status_source), "utf-8")
    return settings.with_changes(participant_fields=("market_earnings", "status"))


@pytest.mark.parametrize(
    ("status_source", "stored", "shown", "cell"),
    [
        ("None", None, "", ""),
        ("7", 7, "7", "7"),
        (
            "dict(rounds=2, left=False)",
            {"rounds": 2, "left": False},
            *['{"rounds": 2, "left": false}'] * 2,
        ),
        ("'x' * 60", "x" * 60, "x" * 60, "x" * 60),
    ],
)
def test_a_declared_status_holds_any_value_as_on_otree_5(
    settings: Settings, status_source: str, stored: object, shown: str, cell: str
) -> None:
    # On oTree 5 a PARTICIPANT_FIELDS name is participant.vars[name] and holds any type
    # (rounds.rst, "Participant fields"); such a project ran on Grove before oTree 6's
    # participant.status came, and keeps running: its status is its own field, stored in vars,
    # exported as any other and read back by its code (the bots expect it). oTree 6.0.15 has
    # no such field (it refuses the name) and refuses a non-text participant.status
    # ("TypeError: status should be set to str, not bool"; None failed the column's NOT
    # NULL): its REST API and Monitor only ever show text, so Grove shows such a value as
    # text too, "" for None.
    declared = declaring_status(settings, status_source)
    app = create_app(declared)
    try:
        with TestClient(app) as client:
            code = create_session(client)
            play(client, code)
            answered = participants(client, code)
            monitor = client.get(f"/SessionMonitor/{code}/data").json()["participants"]
            export = client.get(
                "/api/export/all_apps_wide", params={"session": code}, headers=HEADERS
            )
    finally:
        app.state.grove.db.dispose()
    assert [p["vars"]["status"] for p in answered] == [stored, stored]
    assert [p["status"] for p in answered] == [shown, shown]
    assert [row["status"] for row in monitor] == [shown, shown]
    assert export.status_code == 200, export.text
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [row["participant.status"] for row in rows] == [cell, cell]
    results = run_bots(declared, "market")
    assert results
    assert all(result.ok for result in results), [result.error for result in results]


def test_a_declared_status_stored_before_the_upgrade_is_still_the_participants(
    settings: Settings,
) -> None:
    # A project that declares status kept it in participant.vars["status"] on the Grove from
    # before oTree 6's participant.status (as oTree 5 does; migration 0012 left vars alone):
    # that value is still the participant's status, in the REST API, the Monitor, the export
    # and the app's own reads. (The vars are set here over the REST API's participant_vars,
    # which writes the same participant.vars.)
    declared = declaring_status(settings, "player.participant.status + ', then done'")
    app = create_app(declared)
    try:
        with TestClient(app) as client:
            code = create_session(client)
            for participant, status in zip(participants(client, code), ["paused", ""], strict=True):
                sent = client.post(
                    f"/api/participant_vars/{participant['code']}",
                    json={"vars": {"status": status}},
                    headers=HEADERS,
                )
                assert sent.status_code in (200, 201), sent.text
            before = participants(client, code)
            monitor = client.get(f"/SessionMonitor/{code}/data").json()["participants"]
            export = client.get(
                "/api/export/all_apps_wide", params={"session": code}, headers=HEADERS
            )
            play(client, code)
            after = participants(client, code)
    finally:
        app.state.grove.db.dispose()
    assert [p["status"] for p in before] == ["paused", ""]
    assert [row["status"] for row in monitor] == ["paused", ""]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [row["participant.status"] for row in rows] == ["paused", ""]
    assert [p["status"] for p in after] == ["paused, then done", ", then done"]


WRONG_PAGE_BOTS = """
from otree.api import Bot

from . import *


class PlayerBot(Bot):
    def play_round(self):
        yield Decide, dict(accept=True)  # the sellers are on Offer: each of their bots fails
"""


def test_bots_failing_together_report_one_failure_and_nothing_else(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # oTree 6.0.15's `otree test market 6` with these bots prints the first failure's
    # traceback and stops. Grove reports the first failure; the other sellers' bots, which
    # failed in the same moment, were logged by asyncio as "Task exception was never
    # retrieved", one traceback each, after the summary.
    (settings.root / "market" / "tests.py").write_text(WRONG_PAGE_BOTS, "utf-8")
    with caplog.at_level(logging.ERROR):
        (result,) = run_bots(settings, "market", 6)
        gc.collect()
    assert not result.ok
    assert "the bot submitted Decide but the participant is on page Offer" in result.error
    assert [record.getMessage() for record in caplog.records] == []


def test_the_timer_is_below_the_page_title(client: TestClient) -> None:
    # oTree 6.0.15's page: the title (h2.otree-title), then the timer (div.otree-timer), then
    # the form, as measured on a page with timeout_seconds.
    pages: dict[str, list[str]] = {}
    play(client, create_session(client), pages)
    for html in pages["Offer"]:
        title = html.index('class="grove-title otree-title"')
        timer = html.index("otree-timer alert")
        form = html.index('id="form"')
        assert title < timer < form


def test_the_monitor_shows_each_participants_status(client: TestClient) -> None:
    # oTree 6's Monitor lists participant.status (its version history: "In the admin monitor
    # page, there will be a dropdown that lets you filter based on this field").
    code = create_session(client)
    before = client.get(f"/SessionMonitor/{code}/data").json()["participants"]
    assert [row["status"] for row in before] == ["", ""]
    play(client, code)
    after = client.get(f"/SessionMonitor/{code}/data").json()["participants"]
    assert [row["status"] for row in after] == ["done", "done"]
    page = client.get(f"/SessionMonitor/{code}").text
    assert "<th>Status</th>" in page
    assert page.count("<td>done</td>") == 2
