"""How many SQL statements the hot paths send, on the benchmark's own apps.

Counting statements is the one measure of the hot paths that does not depend on how loaded
the machine is: on SQLite every write statement runs under the one write lock of all workers,
so each statement a page submission or a live message sends lowers the ceiling of writes per
second (bench/README.md, issue 20). Each test counts the statements of one request, as a
participant's browser makes it, and checks them against a budget: the count when the budget
was last lowered. A change that adds a statement to these paths fails here and shows the
statements; a change that removes some should lower the budget.

The budgets are SQLite's; transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE) is not
counted. PostgreSQL sends a few more (row locks and the look before them): its budget for a
page submission is in tests/test_statement_budget_postgres.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from bench.projects import BENCH_ROOM, build_grove_project
from server.app import create_app
from server.bots.html_form import page_form
from server.config import load_settings
from server.live_pages import send_live_message
from tests import databases
from tests.conftest import create_demo_session
from tests.form_filling import entered_values

pytestmark = pytest.mark.sqlite

# Statements per request (SQLite), lowered as the paths get cheaper; never raised to let a
# change pass without saying why in the commit.
PAGE_GET = 1
# The participant with their session and their player of the app the URL names (one read),
# the page completion's INSERT, the change counter's bump, the player's and the
# participant's UPDATEs.
PAGE_POST = 5
# participant_vars (REST, the Qualtrics call) by participant code: the audit row inserted from
# the participant's row, answering its id and vars; the change counter's bump; the vars'
# UPDATE. By room and label for a label whose participant has not arrived yet (kept pending):
# the room with its session, the pending row's INSERT (ON CONFLICT DO NOTHING), the audit row.
VARS_BY_CODE = 3
VARS_BY_LABEL = 3
LIVE_MESSAGE = 7
# bench_wait (groups of three at a wait page): a POST that arrives at the wait page and waits,
# the group's last arrival's POST (it completes the page, runs after_all_players_arrive, moves
# the others on with it and tells their pages where to), and a waiting member's status
# request (?wait=1) sent after the release: one read of where they are, plus the push hub's
# start (the worker's first subscription reads the newest message id). One held before the
# release answers from the release's message alone. (Before 2026-12-02 each waiting member's
# status request moved its member in a write of its own: 16 + 2 x 11 statements for a group
# of three, then 21 + 2 x 0 when held; 18 since the completion check rides in the count and
# the savepoint keeps the change stamp.)
WAIT_ARRIVAL = 7
WAIT_LAST_ARRIVAL = 17
# ORM flushes of the last arrival's unit of work (4 before 2026-12-03: the members' moves
# had a savepoint of their own, whose start and release each flushed).
WAIT_LAST_ARRIVAL_FLUSHES = 2
WAIT_RELEASED = 2
# One urn randomization over the reference API (POST /study_participants), with the server's
# key, for an id that is no participant's label, in a study named by its session's code.
URN_DRAW = 5


@pytest.fixture(scope="module")
def bench_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("statement_budget")
    project = build_grove_project(
        folder / "project", configs=["bench_form", "bench_live", "bench_wait"]
    )
    url = databases.database_url(folder, "budget", backend=databases.SQLITE)
    settings = load_settings(project, {"DATABASE_URL": url})
    # No timeout sweep during the test: its statements would be counted with the request's.
    application = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    yield application
    application.state.grove.db.dispose()


@pytest.fixture(scope="module")
def client(bench_app: Any) -> Iterator[TestClient]:
    with TestClient(bench_app) as test_client:
        yield test_client


CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def counted(application: Any, *, control: bool = False) -> Iterator[list[str]]:
    """The SQL statements sent meanwhile on the application's engine (not BEGIN, COMMIT,
    SAVEPOINT and the like unless ``control``)."""
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if control or not statement.startswith(CONTROL):
            statements.append(" ".join(statement.split())[:160])

    engine = application.state.grove.db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


@contextmanager
def flushes_counted() -> Iterator[list[int]]:
    """One entry for each ORM flush that writes something, in any session, meanwhile. A flush
    runs SQLAlchemy's unit of work and Grove's flush hooks (change stamps, JSON vars): about
    as much CPU as a few statements, whatever it writes."""
    flushes: list[int] = []

    def note(_session: Any, _context: Any, _instances: Any) -> None:
        flushes.append(1)

    sa.event.listen(Session, "before_flush", note)
    try:
        yield flushes
    finally:
        sa.event.remove(Session, "before_flush", note)


def _within(statements: list[str], budget: int) -> None:
    listing = "\n".join(f"  {n}. {s}" for n, s in enumerate(statements, 1))
    assert len(statements) <= budget, f"{len(statements)} statements, budget {budget}:\n{listing}"


def _page_url(client: TestClient, config: str) -> str:
    _code, links = create_demo_session(client, config)
    response = client.get(links[0])
    assert response.status_code == 200
    return str(response.url).replace("http://testserver", "")


def test_a_page_get_sends_few_statements(client: TestClient, bench_app: Any) -> None:
    url = _page_url(client, "bench_form")
    client.get(url)  # the first GET of a page may set its deadline or start time
    with counted(bench_app) as statements:
        response = client.get(url)
    assert response.status_code == 200
    assert 'name="answer"' in response.text
    _within(statements, PAGE_GET)


def test_a_valid_submission_sends_few_statements(client: TestClient, bench_app: Any) -> None:
    url = _page_url(client, "bench_form")
    page = client.get(url)
    form = page_form(page.text)
    pairs = dict(form.submission(entered_values(form, {"answer": "42"})))
    with counted(bench_app) as statements:
        response = client.post(form.action or url, data=pairs, follow_redirects=False)
    assert response.status_code == 303
    assert "/Done/" in response.headers["location"]
    assert any(s.startswith("UPDATE bench_form_player SET answer") for s in statements)
    _within(statements, PAGE_POST)


def test_a_live_message_sends_few_statements(client: TestClient, bench_app: Any) -> None:
    page = _page_url(client, "bench_live")
    _, _p, code, _app, _page, index = page.split("/")
    grove = bench_app.state.grove
    send_live_message(grove.db, grove.project, code, int(index), "warm", "k0")
    with counted(bench_app) as statements:
        result = send_live_message(grove.db, grove.project, code, int(index), "hi", "k1")
    assert result.status == "ran"
    assert result.return_value == {0: "hi"}
    _within(statements, LIVE_MESSAGE)


def test_the_wait_page_units_send_few_statements(client: TestClient, bench_app: Any) -> None:
    _code, links = create_demo_session(client, "bench_wait")
    arrive_urls = []
    for link in links[:3]:
        response = client.get(link)
        assert "/Arrive/1" in str(response.url)
        arrive_urls.append(str(response.url).replace("http://testserver", ""))
    posted = []
    for url in arrive_urls:
        form = page_form(client.get(url).text)
        with counted(bench_app, control=True) as statements, flushes_counted() as flushes:
            response = client.post(
                form.action or url, data=dict(form.submission({})), follow_redirects=False
            )
        assert response.status_code == 303
        posted.append((statements, len(flushes), response.headers["location"]))
    (first, _, wait_url), _second, (last, last_flushes, after_url) = posted
    # No app code runs while the members move on (After has no is_displayed), so no
    # savepoint guards it; the flushes: the last arrival onto the wait page (before the
    # arrivals are counted) and the commit's.
    assert not [s for s in last if s.startswith(("SAVEPOINT", "RELEASE"))], last
    assert last_flushes <= WAIT_LAST_ARRIVAL_FLUSHES, f"{last_flushes} flushes"
    first, last = ([s for s in sent if not s.startswith(CONTROL)] for sent in (first, last))
    assert "/Gather/2" in wait_url
    assert "/After/3" in after_url
    with counted(bench_app) as released:
        status = client.get(wait_url + "/status", params={"wait": "1"})
    assert status.json() == {"ready": True, "url": wait_url.replace("/Gather/2", "/After/3")}
    _within(first, WAIT_ARRIVAL)
    _within(last, WAIT_LAST_ARRIVAL)
    _within(released, WAIT_RELEASED)


RELAY_PROJECT = Path(__file__).resolve().parent / "projects" / "relay"


def _last_arrival_statements(client: TestClient, application: Any, players: int) -> int:
    """Statements of the POST that completes round_gate's Gate (the subsession's wait page,
    the round's last page) for a session of ``players``, moving them all to round 2."""
    code = client.post(
        "/api/sessions/", json={"session_config_name": "round_gate", "num_participants": players}
    ).json()["code"]
    links = [
        f"/InitializeParticipant/{p['code']}"
        for p in client.get(f"/api/sessions/{code}").json()["participants"]
    ]
    *others, last = links
    for link in others:
        intro = client.get(link)
        answer = client.post(str(intro.url), data={}, follow_redirects=False)
        assert "/round_gate/Gate/2" in answer.headers["location"]
    intro = client.get(last)
    with counted(application) as statements:
        answer = client.post(str(intro.url), data={}, follow_redirects=False)
    assert "/round_gate/Intro/3" in answer.headers["location"]
    for link in links:
        assert "/round_gate/Intro/3" in str(client.get(link).url)
    return len(statements)


def test_a_completion_moving_everyone_to_the_next_round_costs_the_same_for_more_players(
    tmp_path: Path,
) -> None:
    """The completion of a wait page that ends a round moves its members into the next round
    in a number of statements that does not grow with the subsession's size."""
    counts = {}
    for players in (4, 12):
        settings = load_settings(
            RELAY_PROJECT,
            {"DATABASE_URL": databases.database_url(tmp_path, f"gate{players}")},
        )
        application = create_app(settings)
        with TestClient(application) as client:
            counts[players] = _last_arrival_statements(client, application, players)
        application.state.grove.db.dispose()
    assert counts[12] == counts[4], counts


REST_KEY = "statement-budget-key"


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The benchmark's project with the server's REST key, as the benchmark runs it."""
    folder = tmp_path_factory.mktemp("statement_budget_api")
    project = build_grove_project(folder / "project", configs=["bench_form"])
    url = databases.database_url(folder, "budget_api", backend=databases.SQLITE)
    settings = load_settings(project, {"DATABASE_URL": url, "OTREE_REST_KEY": REST_KEY})
    application = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    yield application
    application.state.grove.db.dispose()


def test_participant_vars_send_few_statements(api_app: Any) -> None:
    headers = {"otree-rest-key": REST_KEY}
    with TestClient(api_app) as client:
        created = client.post(
            "/api/sessions/",
            json={"session_config_name": "bench_form", "num_participants": 2},
            headers=headers,
        )
        session = client.get(f"/api/sessions/{created.json()['code']}", headers=headers).json()
        by_code_url = f"/api/participant_vars/{session['participants'][0]['code']}"
        client.post(by_code_url, json={"vars": {"age": "25"}}, headers=headers)
        with counted(api_app) as by_code:
            response = client.post(by_code_url, json={"vars": {"age": "26"}}, headers=headers)
        assert response.json() == {"ok": True, "applied": True, "pending": False}
        room = {"room_name": BENCH_ROOM, "vars": {"age": "25"}}
        client.post(
            "/api/participant_vars/", json={**room, "participant_label": "A"}, headers=headers
        )
        with counted(api_app) as by_label:
            response = client.post(
                "/api/participant_vars/", json={**room, "participant_label": "B"}, headers=headers
            )
        assert response.json() == {"ok": True, "applied": False, "pending": True}
    _within(by_code, VARS_BY_CODE)
    _within(by_label, VARS_BY_LABEL)


def test_an_urn_draw_sends_few_statements(tmp_path: Any) -> None:
    project = build_grove_project(tmp_path / "project", configs=["randomized_trial"])
    url = databases.database_url(tmp_path, "budget_urn", backend=databases.SQLITE)
    settings = load_settings(project, {"DATABASE_URL": url, "OTREE_REST_KEY": REST_KEY})
    application = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    headers = {"otree-rest-key": REST_KEY}
    try:
        with TestClient(application) as client:
            created = client.post(
                "/api/sessions/",
                json={"session_config_name": "randomized_trial", "num_participants": 1},
                headers=headers,
            )
            draw = {"study": created.json()["code"], "age_group": "65+", "sex": "Male"}
            client.post("/study_participants", params={**draw, "id": "K1"}, headers=headers)
            with counted(application) as statements:
                response = client.post(
                    "/study_participants", params={**draw, "id": "K2"}, headers=headers
                )
    finally:
        application.state.grove.db.dispose()
    assert response.json()["results"][0]["id"] == "K2"
    assert any(s.startswith("INSERT INTO grove_urn_assignment") for s in statements)
    _within(statements, URN_DRAW)
