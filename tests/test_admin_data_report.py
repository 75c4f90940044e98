"""The Data tab (each app's player, group and subsession fields by round, as oTree's "Data")
and the Report tab (the app's admin_report.html with vars_for_admin_report, as oTree's
"Reports"). The sample's public_goods report, played through the pages' forms; and a test
project (tests/projects/reports) whose app has two rounds, ADMIN_VIEW_FIELDS, and its report
in oTree's older place (templates/notes/admin_report.html), beside an app without one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings, load_settings
from tests import databases
from tests.admin_pages import form_with_action, log_in, submit_form
from tests.conftest import participant_links
from tests.session_players import Player, advance, by_label, create_public_goods, monitor

PASSWORD = "data password"
REPORTS_PROJECT = Path(__file__).parent / "projects" / "reports"


@pytest.fixture
def admin(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.with_changes(admin_password=PASSWORD))
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, PASSWORD)
        yield client
    app.state.grove.db.dispose()


@pytest.fixture
def reports_admin(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(REPORTS_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(admin_password=PASSWORD))
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, PASSWORD)
        yield client
    app.state.grove.db.dispose()


def _table(html: str, table_class: str) -> list[dict[str, str]]:
    """The rows of the page's table of this class, each by column name."""
    table = html.split(f'class="{table_class}"')[1].split("</table>")[0]
    columns = re.findall(r"<th>([^<]*)</th>", table)
    rows = re.findall(r"<tr>((?:<td>.*?</td>)+)</tr>", table, re.S)
    return [dict(zip(columns, re.findall(r"<td>(.*?)</td>", row), strict=True)) for row in rows]


def _report(html: str) -> str:
    return html.split('<div class="grove-admin-report">')[1].split("</div>")[0]


def test_data_shows_each_players_group_and_subsession_fields_as_they_change(admin):
    code, links = create_public_goods(admin)
    page = admin.get(f"/SessionData/{code}")
    assert page.status_code == 200
    assert 'aria-current="page" href="/SessionData/' in page.text
    assert "data-grove-refresh" in page.text
    assert '<script src="/grove_static/grove-refresh.js"></script>' in page.text
    assert admin.get("/grove_static/grove-refresh.js").status_code == 200
    rows = _table(page.text, "grove-table grove-session-data")
    assert [row["participant"] for row in rows] == ["P1", "P2", "P3"]
    assert list(rows[0]) == [
        "participant",
        "participant.code",
        "participant.label",
        "player.id_in_group",
        "player.role",
        "player.payoff",
        "player.contribution",
        "player.timed_out",
        "group.id_in_subsession",
        "group.total_contribution",
        "group.individual_share",
        "subsession.round_number",
    ]
    assert [row["player.contribution"] for row in rows] == ["", "", ""]

    with TestClient(admin.app) as browser:
        players = [Player(browser, link) for link in links]
        for player, amount in zip(players, ("10", "20", "30"), strict=True):
            player.contribute(amount)
    rows = _table(admin.get(f"/SessionData/{code}").text, "grove-table grove-session-data")
    assert [row["player.contribution"] for row in rows] == ["10.0", "20.0", "30.0"]
    assert [row["player.id_in_group"] for row in rows] == ["1", "2", "3"]
    assert {row["group.total_contribution"] for row in rows} == {"60.0"}
    assert [row["player.payoff"] for row in rows] == ["126.0", "116.0", "106.0"]

    # The session's second app is chosen by its name.
    other = admin.get(f"/SessionData/{code}?app=payment_info")
    assert other.status_code == 200
    assert "payment_info, round 1 of 1" in other.text


def test_data_refuses_an_app_or_round_the_session_has_not(admin):
    code, _links = create_public_goods(admin)
    assert admin.get(f"/SessionData/{code}?app=trust").status_code == 400
    assert admin.get(f"/SessionData/{code}?app=public_goods&round=2").status_code == 400
    assert admin.get(f"/SessionData/{code}?round=x").status_code == 400
    assert admin.get("/SessionData/nosuchcode").status_code == 404


def test_the_sample_report_shows_the_rounds_contributions(admin):
    code, links = create_public_goods(admin)
    page = admin.get(f"/SessionReport/{code}")
    assert page.status_code == 200
    assert 'aria-current="page" href="/SessionReport/' in page.text
    report = _report(page.text)
    assert "Round 1: 0 of 3 players have decided" in report
    assert "Mean contribution" not in report
    assert "<tr><td>1</td><td>not yet</td></tr>" in re.sub(r">\s+<", "><", report)

    with TestClient(admin.app) as browser:
        players = [Player(browser, link) for link in links]
        players[0].contribute("20")
        players[1].contribute("40")
        players[2].go()
        assert advance(admin, code, by_label(monitor(admin, code))["P3"]["code"]).status_code
    report = re.sub(r"\s+", " ", _report(admin.get(f"/SessionReport/{code}").text))
    assert "Round 1: 3 of 3 players have decided, 1 of them by letting the time run out." in report
    assert "Mean contribution: 20 points (of an endowment of 100 points)." in report
    assert "<tr><td>1</td><td>60 points</td></tr>" in report.replace("> <", "><")


def _play_notes(client: TestClient, notes: list[str]) -> str:
    created = submit_form(
        client, "/sessions/create?config=notes", "/sessions/create", {"num_participants": "2"}
    )
    code = created.headers["location"].rsplit("/", 1)[-1]
    links = participant_links(client.get(created.headers["location"]).text)
    with TestClient(client.app) as browser:
        for link, note in zip(links, notes, strict=True):
            player = Player(browser, link)
            html = player.go()
            form = form_with_action(html, player.url)
            response = browser.post(
                player.url, data=dict(form.submission({"note": note})), follow_redirects=False
            )
            assert response.status_code in (302, 303), response.text
    return code


def test_a_report_in_otrees_older_place_by_round_escaped(reports_admin):
    code = _play_notes(reports_admin, ["<script>alert(1)</script>", "fine"])
    page = reports_admin.get(f"/SessionReport/{code}")
    assert page.status_code == 200
    report = _report(page.text)
    assert f"Notes of round 1 of 2 in {code}:" in report
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li><li>fine</li>" in report
    assert "<script>alert" not in page.text
    # The round chooser: round 2's notes are still empty.
    assert '<select id="grove-round" name="round" data-grove-autosubmit>' in page.text
    second = _report(reports_admin.get(f"/SessionReport/{code}?app=notes&round=2").text)
    assert "Notes of round 2 of 2" in second
    assert "<li></li><li></li>" in second
    # Only apps with a report are offered; one without is refused.
    assert "?app=plain" not in page.text
    assert reports_admin.get(f"/SessionReport/{code}?app=plain").status_code == 400


def test_data_shows_only_admin_view_fields(reports_admin):
    code = _play_notes(reports_admin, ["a", "b"])
    rows = _table(reports_admin.get(f"/SessionData/{code}").text, "grove-table grove-session-data")
    assert list(rows[0]) == [
        "participant",
        "participant.code",
        "participant.label",
        "player.note",
        "player.payoff",
        "group.id_in_subsession",
    ]
    assert [row["player.note"] for row in rows] == ["a", "b"]


def test_a_session_without_reports_says_how_to_make_one(admin):
    created = submit_form(
        admin, "/sessions/create?config=trust", "/sessions/create", {"num_participants": "2"}
    )
    code = created.headers["location"].rsplit("/", 1)[-1]
    page = admin.get(f"/SessionReport/{code}")
    assert page.status_code == 200
    assert "None of this session's apps has an admin report" in page.text


def test_data_is_paginated(admin, monkeypatch):
    monkeypatch.setattr("server.session_data.ROWS_PER_PAGE", 2)
    code, _links = create_public_goods(admin)
    first = _table(admin.get(f"/SessionData/{code}").text, "grove-table grove-session-data")
    assert [row["participant"] for row in first] == ["P1", "P2"]
    second = admin.get(f"/SessionData/{code}?app=public_goods&round=1&page=2").text
    assert [row["participant"] for row in _table(second, "grove-table grove-session-data")] == [
        "P3"
    ]
    assert "Page 2 of 2." in second


def test_data_and_report_need_a_login(admin):
    code, _links = create_public_goods(admin)
    with TestClient(admin.app, follow_redirects=False) as stranger:
        for tab in ("SessionData", "SessionReport"):
            response = stranger.get(f"/{tab}/{code}")
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login")
