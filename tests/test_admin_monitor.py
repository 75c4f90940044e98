"""The Monitor tab: where each participant is (read from the database, so a second worker
sees what the first one stored), the group matrix, and "advance" (oTree's "Advance slowest
participants"): a stuck participant's page is submitted as its timeout would submit it, and a
participant advanced past a wait page does not hold up or break the others. Played through
the pages' forms on public_goods (groups of 3; Contribute has a timeout, and its
before_next_page zeroes the contribution and sets timed_out when timeout_happened)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from tests import databases
from tests.admin_pages import database_snapshot, form_with_action, log_in, submit_form
from tests.session_players import Player, advance, by_label, create_public_goods, monitor

PASSWORD = "monitor password"


@pytest.fixture
def admin_settings(settings: Settings) -> Settings:
    return settings.with_changes(admin_password=PASSWORD)


@pytest.fixture
def admin(admin_settings: Settings) -> Iterator[TestClient]:
    """A logged-in admin of a password-protected server."""
    app = create_app(admin_settings)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, PASSWORD)
        yield client
    app.state.grove.db.dispose()


def _data_row(html: str, participant: str) -> dict[str, str]:
    """One player's row of the Data tab, by column name."""
    columns = re.findall(
        r"<th>([^<]*)</th>", html.split('class="grove-table grove-session-data"')[1]
    )
    row = re.search(rf"<tr><td>{participant}</td>(.*?)</tr>", html, re.S)
    assert row, participant
    cells = [participant, *re.findall(r"<td>(.*?)</td>", row[1], re.S)]
    return dict(zip(columns, cells, strict=True))


def test_monitor_shows_each_participants_place_as_a_second_worker_sees_it(admin, admin_settings):
    code, links = create_public_goods(admin)
    page = admin.get(f"/SessionMonitor/{code}")
    assert page.status_code == 200
    assert 'aria-current="page" href="/SessionMonitor/' in page.text
    assert '<script src="/grove_static/grove-monitor.js"></script>' in page.text
    assert f'data-grove-monitor="/SessionMonitor/{code}/data"' in page.text
    assert admin.get("/grove_static/grove-monitor.js").status_code == 200
    before = by_label(monitor(admin, code))
    assert [p["started"] for p in before.values()] == [False, False, False]
    assert monitor(admin, code)["matrices"] == []

    with TestClient(admin.app) as browser:
        players = [Player(browser, link) for link in links]
        players[0].contribute("30")
        players[1].go()

    # Another app on the same database: another worker, with nothing in memory from above.
    second = create_app(admin_settings)
    with TestClient(second, follow_redirects=False) as other_worker:
        log_in(other_worker, PASSWORD)
        data = monitor(other_worker, code)
    second.state.grove.db.dispose()
    rows = by_label(data)
    assert rows["P1"]["page_name"] == "ResultsWaitPage"
    assert rows["P1"]["on_wait_page"] is True
    assert (rows["P1"]["app"], rows["P1"]["round_number"]) == ("public_goods", 1)
    assert rows["P2"]["page_name"] == "Contribute"
    assert rows["P2"]["on_wait_page"] is False
    assert rows["P2"]["page_index"] == 1
    assert rows["P1"]["page_index"] == 2
    assert rows["P3"]["started"] is False
    assert rows["P3"]["page_name"] is None
    for label in ("P1", "P2"):
        assert 0 <= rows[label]["seconds_on_page"] < 60
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[label]["last_activity"])
    assert rows["P3"]["seconds_on_page"] is None
    assert rows["P3"]["last_activity"] == ""
    assert data["matrices"] == [{"app": "public_goods", "round_number": 1, "groups": [[1, 2, 3]]}]
    assert data["num_finished"] == 0


def test_advancing_a_participant_stuck_on_a_page_submits_it_as_a_timeout(admin):
    code, links = create_public_goods(admin)
    with TestClient(admin.app) as browser:
        players = [Player(browser, link) for link in links]
        players[0].contribute("50")
        players[1].contribute("50")
        players[2].go()  # on Contribute, with 180 s left: a plain submission would be refused
        stuck = by_label(monitor(admin, code))["P3"]
        assert stuck["page_name"] == "Contribute"

        response = advance(admin, code, stuck["code"])
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/SessionMonitor/{code}?advanced=1"
        assert "Advanced 1 participant by one page" in admin.get(response.headers["location"]).text

        rows = by_label(monitor(admin, code))
        assert rows["P3"]["page_name"] == "Results"
        # P3 was the group's last: the others pass the wait page at their next request.
        for player in players:
            assert "Results" in player.go()
        rows = by_label(monitor(admin, code))
        assert [rows[p]["page_name"] for p in ("P1", "P2", "P3")] == ["Results"] * 3
    data = admin.get(f"/SessionData/{code}").text
    # before_next_page saw timeout_happened: P3's timed_out is set (1, as the CSV shows it).
    assert _data_row(data, "P3")["player.timed_out"] == "1"
    assert _data_row(data, "P1")["player.timed_out"] == "0"
    payments = admin.get(f"/SessionPayments/{code}").text
    # And the timeout's contribution: P3 contributed 0 (share 100 * 1.8 / 3 = 60).
    assert re.search(r"<td>P3</td>.*?<td>160 points</td>", payments, re.S)
    assert re.search(r"<td>P1</td>.*?<td>110 points</td>", payments, re.S)


def test_a_participant_advanced_past_a_wait_page_does_not_break_the_others(admin):
    code, links = create_public_goods(admin)
    with TestClient(admin.app) as browser:
        players = [Player(browser, link) for link in links]
        players[0].contribute("10")
        first = by_label(monitor(admin, code))["P1"]
        assert first["page_name"] == "ResultsWaitPage"

        assert advance(admin, code, first["code"]).status_code == 303
        rows = by_label(monitor(admin, code))
        assert rows["P1"]["page_name"] == "Results"  # passed without the others
        assert rows["P2"]["started"] is False

        players[1].contribute("20")
        assert by_label(monitor(admin, code))["P2"]["page_name"] == "ResultsWaitPage"
        players[2].contribute("30")
        for player in players:
            assert "Results" in player.go()
        rows = by_label(monitor(admin, code))
        assert [rows[p]["page_name"] for p in ("P1", "P2", "P3")] == ["Results"] * 3
    # set_payoffs ran once, when P3 arrived, for all three (P1's arrival counted): pot 60,
    # share 36.
    payments = admin.get(f"/SessionPayments/{code}").text
    for label, payoff in (("P1", "126"), ("P2", "116"), ("P3", "106")):
        assert re.search(rf"<td>{label}</td>.*?<td>{payoff} points</td>", payments, re.S), label


def test_advancing_several_at_once_starts_the_unstarted(admin):
    code, _links = create_public_goods(admin)
    rows = by_label(monitor(admin, code))
    response = advance(admin, code, rows["P1"]["code"], rows["P2"]["code"])
    assert response.headers["location"] == f"/SessionMonitor/{code}?advanced=2"
    rows = by_label(monitor(admin, code))
    assert [rows[p]["page_name"] for p in ("P1", "P2", "P3")] == ["Contribute", "Contribute", None]


def test_the_monitor_data_needs_a_login_and_answers_json(admin, admin_settings):
    code, _links = create_public_goods(admin)
    with TestClient(admin.app, follow_redirects=False) as stranger:
        response = stranger.get(f"/SessionMonitor/{code}/data")
        assert response.status_code == 403
        assert response.json() == {
            "ok": False,
            "status": 403,
            "error": "not logged in as the admin",
            "errors": [],
        }
        assert stranger.get(f"/SessionMonitor/{code}").status_code == 303  # to the login
    missing = admin.get("/SessionMonitor/nosuchcode/data")
    assert missing.status_code == 404
    assert missing.json()["ok"] is False


@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_advance_without_the_csrf_token_is_refused(admin, admin_settings, token):
    code, _links = create_public_goods(admin)
    participant = by_label(monitor(admin, code))["P1"]["code"]
    engine = databases.engine(admin_settings.database_url)
    before = database_snapshot(engine)
    response = submit_form(
        admin,
        f"/SessionMonitor/{code}",
        f"/SessionMonitor/{code}/advance",
        {f"advance:{participant}": True},
        csrf_token=None if token == "missing" else "A" * 43,
    )
    assert response.status_code == 403
    assert "nothing was changed" in response.text
    assert database_snapshot(engine) == before
    engine.dispose()


def test_advance_without_a_login_is_refused(admin, admin_settings):
    code, _links = create_public_goods(admin)
    participant = by_label(monitor(admin, code))["P1"]["code"]
    pairs = form_with_action(
        admin.get(f"/SessionMonitor/{code}").text, f"/SessionMonitor/{code}/advance"
    ).submission({f"advance:{participant}": True})
    engine = databases.engine(admin_settings.database_url)
    before = database_snapshot(engine)
    with TestClient(admin.app, follow_redirects=False) as stranger:
        response = stranger.post(f"/SessionMonitor/{code}/advance", data=dict(pairs))
    assert response.status_code == 403
    assert database_snapshot(engine) == before
    engine.dispose()


def test_advance_of_a_participant_of_another_session_moves_no_one(admin):
    code, _links = create_public_goods(admin)
    other, _ = create_public_goods(admin)
    stranger = by_label(monitor(admin, other))["P1"]["code"]
    page = admin.get(f"/SessionMonitor/{code}").text
    pairs = dict(form_with_action(page, f"/SessionMonitor/{code}/advance").submission())
    pairs[f"advance:{stranger}"] = "1"
    response = admin.post(f"/SessionMonitor/{code}/advance", data=pairs)
    assert response.headers["location"] == f"/SessionMonitor/{code}?advanced=0"
    assert by_label(monitor(admin, other))["P1"]["started"] is False


def test_advancing_from_the_monitor_reloads_the_participants_open_page(admin):
    """As oTree's advance and the admin API's: the advanced participant's open page reloads
    to show where they are. (Before, only the API's did: a form left open on the old page was
    filled in and its answer dropped, the POST redirected to the page they were moved to.)"""
    import sqlalchemy as sa

    from server.models.push import PushMessage
    from server.page_channel import page_channel

    code, links = create_public_goods(admin)
    with TestClient(admin.app) as browser:
        Player(browser, links[2]).go()  # on Contribute, its page open
        stuck = by_label(monitor(admin, code))["P3"]

        def reloads() -> int:
            with admin.app.state.grove.db.read() as db:
                bodies = db.scalars(
                    sa.select(PushMessage.body).where(
                        PushMessage.channel == page_channel(stuck["code"])
                    )
                ).all()
            return sum(
                '"command": "reload"' in body or '"command":"reload"' in body for body in bodies
            )

        before = reloads()
        assert advance(admin, code, stuck["code"]).status_code == 303
        assert by_label(monitor(admin, code))["P3"]["page_name"] == "ResultsWaitPage"
        assert reloads() == before + 1
