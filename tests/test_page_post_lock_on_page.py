"""A page POST on PostgreSQL locks the group of the page its URL names without a look first
(participant_pages._lock_on_page): the POSTs a browser or a stale tab can send, answered as
the page flow says (303 to the current page, the form's errors), never a 500, and the answer
stored on the right player and group, in round 2 too, after set_group_matrix."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.rest_helpers import HEADERS, REST_KEY
from tests.session_players import advance

ALPHA = """
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "alpha"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    total = models.IntegerField(initial=0)
    released = models.BooleanField(initial=False)


class Player(BasePlayer):
    answer = models.IntegerField(min=0, max=9)
    group_seen = models.IntegerField()


def creating_session(subsession):
    if subsession.round_number == 2:
        subsession.set_group_matrix([[1, 4], [2, 3]])


class Decide(Page):
    form_model = "player"
    form_fields = ["answer"]

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.group_seen = player.group.id_in_subsession
        player.group.total += player.answer


class Sync(WaitPage):
    @staticmethod
    def after_all_players_arrive(group):
        group.released = True


class Results(Page):
    pass


page_sequence = [Decide, Sync, Results]
"""

BETA = """
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "beta"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    other = models.IntegerField()


class Other(Page):
    form_model = "player"
    form_fields = ["other"]


page_sequence = [Other]
"""


def _project(root: Path) -> Path:
    root.mkdir()
    (root / "settings.py").write_text("")
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [\n"
        "    dict(name='ab', app_sequence=['alpha', 'beta'], num_demo_participants=4),\n"
        "]\n"
    )
    for name, source, pages in (
        ("alpha", ALPHA, ("Decide", "Results")),
        ("beta", BETA, ("Other",)),
    ):
        app_dir = root / "apps" / name
        app_dir.mkdir(parents=True)
        (app_dir / "__init__.py").write_text(source)
        for page in pages:
            (app_dir / f"{page}.html").write_text(
                "{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}"
            )
    return root


def _client(tmp_path: Path) -> tuple[TestClient, object]:
    root = _project(tmp_path / "project")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    return TestClient(app), app


def _session(client: TestClient) -> tuple[str, list[str]]:
    created = client.post(
        "/api/sessions/",
        json={"session_config_name": "ab", "num_participants": 4},
        headers=HEADERS,
    )
    assert created.status_code == 200, created.text
    code = created.json()["code"]
    people = client.get(f"/api/sessions/{code}", headers=HEADERS).json()["participants"]
    return code, [p["code"] for p in sorted(people, key=lambda p: p["id_in_session"])]


def _start(client: TestClient, code: str) -> str:
    page = client.get(f"/InitializeParticipant/{code}", follow_redirects=True)
    assert page.status_code == 200, page.text
    return page.url.path


def _export(client: TestClient, code: str) -> dict[tuple[int, int], dict[str, str]]:
    response = client.get(f"/api/export/alpha?session={code}", headers=HEADERS)
    assert response.status_code == 200, response.text
    return {
        (int(row["subsession.round_number"]), int(row["participant.id_in_session"])): row
        for row in csv.DictReader(io.StringIO(response.text))
    }


def test_stale_and_forged_posts_redirect_and_store_nothing(tmp_path):
    client, app = _client(tmp_path)
    with client:
        session, people = _session(client)
        path = _start(client, people[0])
        assert path.endswith("/alpha/Decide/1")
        base = path.rsplit("/", 3)[0]
        # A later page's URL, a wait page's, and an index past the end: stale, nothing stored.
        for stale in ("alpha/Results/3", "alpha/Sync/2", "alpha/Decide/99"):
            answer = client.post(f"{base}/{stale}", data={"answer": "7"}, follow_redirects=False)
            assert answer.status_code == 303, (stale, answer.status_code, answer.text[:300])
            assert answer.headers["location"] == path, stale
        # An invalid answer to the page it is on: the form again, with its error.
        refused = client.post(path, data={"answer": "12"}, follow_redirects=False)
        assert refused.status_code == 200, refused.text[:300]
        rows = _export(client, session)
        assert rows[(1, 1)]["player.answer"] == ""
        assert rows[(1, 1)]["group.total"] == "0"
    app.state.grove.db.dispose()


def test_round_two_posts_land_in_the_groups_set_group_matrix_made(tmp_path):
    client, app = _client(tmp_path)
    with client:
        session, people = _session(client)
        paths = [_start(client, person) for person in people]
        for round_number in (1, 2):
            for number, path in enumerate(paths, start=1):
                answer = client.post(path, data={"answer": str(number)}, follow_redirects=False)
                assert answer.status_code == 303, (round_number, number, answer.text[:300])
            # Everyone on the wait page: the last arrival released the groups.
            paths = []
            for person in people:
                page = client.get(f"/InitializeParticipant/{person}", follow_redirects=True)
                assert page.status_code == 200, page.text[:300]
                assert "/alpha/Results/" in page.url.path, page.url.path
                done = client.post(page.url.path, data={}, follow_redirects=True)
                assert done.status_code == 200, done.text[:300]
                paths.append(done.url.path)
        assert all("/beta/Other/" in path for path in paths), paths
        rows = _export(client, session)
        # Round 1: pairs (1, 2) and (3, 4); round 2, set_group_matrix's (1, 4) and (2, 3).
        totals = {
            key: (row["group.id_in_subsession"], row["group.total"]) for key, row in rows.items()
        }
        assert totals == {
            (1, 1): ("1", "3"),
            (1, 2): ("1", "3"),
            (1, 3): ("2", "7"),
            (1, 4): ("2", "7"),
            (2, 1): ("1", "5"),
            (2, 4): ("1", "5"),
            (2, 2): ("2", "5"),
            (2, 3): ("2", "5"),
        }
        assert {key: row["group.released"] for key, row in rows.items()} == dict.fromkeys(rows, "1")
    app.state.grove.db.dispose()


def test_a_post_after_the_admin_advanced_the_participant_is_stale(tmp_path):
    """The Monitor's "advance" moved the participant on (the page submitted as a timeout
    would) while their tab still showed the page: the tab's POST changes nothing."""
    client, app = _client(tmp_path)
    with client:
        session, people = _session(client)
        path = _start(client, people[0])
        assert advance(client, session, people[0]).status_code == 303
        late = client.post(path, data={"answer": "7"}, follow_redirects=False)
        assert late.status_code == 303, late.text[:300]
        assert late.headers["location"].endswith("/alpha/Sync/2")
        rows = _export(client, session)
        # The advance submitted it as a timeout (0, as oTree fills an IntegerField), not 7.
        assert rows[(1, 1)]["player.answer"] == "0"
        assert rows[(1, 1)]["group.total"] == "0"
    app.state.grove.db.dispose()


def test_page_gets_of_an_earlier_round_and_after_the_end(tmp_path):
    """The page GET's one read (participant, session and the URL's app's player, group and
    subsession) for the URLs a participant's browser can hold: an earlier round's page (a 303
    to their page), and any page after the end (a 303 to the finished page)."""
    client, app = _client(tmp_path)
    with client:
        _session_code, people = _session(client)
        paths = [_start(client, person) for person in people]
        for round_number in (1, 2):
            for path in paths:
                answer = client.post(path, data={"answer": "1"}, follow_redirects=False)
                assert answer.status_code == 303, (round_number, answer.text[:300])
            paths = []
            for person in people:
                page = client.get(f"/InitializeParticipant/{person}", follow_redirects=True)
                assert "/alpha/Results/" in page.url.path, page.url.path
                if round_number == 1:
                    back = client.get(f"/p/{person}/alpha/Decide/1", follow_redirects=False)
                    assert back.status_code == 303, back.text[:300]
                    assert back.headers["location"] == page.url.path
                done = client.post(page.url.path, data={}, follow_redirects=False)
                assert done.status_code == 303, done.text[:300]
                paths.append(done.headers["location"])
        assert all(path.endswith("/beta/Other/7") for path in paths), paths
        for person, path in zip(people, paths, strict=True):
            finished = client.post(path, data={"other": "5"}, follow_redirects=False)
            assert finished.status_code == 303, finished.text[:300]
            assert finished.headers["location"] == f"/p/{person}/finished"
            for url in (path, f"/p/{person}/alpha/Decide/4"):
                late = client.get(url, follow_redirects=False)
                assert late.status_code == 303, (url, late.status_code, late.text[:300])
                assert late.headers["location"] == f"/p/{person}/finished", url
    app.state.grove.db.dispose()


def test_a_url_naming_another_page_at_the_current_index_is_a_redirect(tmp_path):
    """oTree 6.0.15 answers any page request whose path is not the participant's current
    page's URL with a redirect to it (``Page.dispatch``: ``request.url.path ==
    participant._url_i_should_be_on()``), whatever the method: a URL that names another app,
    or another page, at the index the participant is on changes nothing. Grove took it as
    the current page's submission (and showed that page under the other URL)."""
    client, app = _client(tmp_path)
    with client:
        session, people = _session(client)
        path = _start(client, people[0])
        assert path.endswith("/alpha/Decide/1")
        base = path.rsplit("/", 3)[0]
        for other in ("beta/Other/1", "alpha/Results/1", "alpha/Nope/1", "nope/Decide/1"):
            shown = client.get(f"{base}/{other}", follow_redirects=False)
            assert shown.status_code == 303, (other, shown.status_code)
            assert shown.headers["location"] == path, other
            sent = client.post(
                f"{base}/{other}", data={"answer": "4", "other": "4"}, follow_redirects=False
            )
            assert sent.status_code == 303, (other, sent.status_code, sent.text[:300])
            assert sent.headers["location"] == path, other
        rows = _export(client, session)
        assert rows[(1, 1)]["player.answer"] == ""
        assert rows[(1, 1)]["group.total"] == "0"
        assert client.post(path, data={"answer": "4"}, follow_redirects=False).status_code == 303
        assert _export(client, session)[(1, 1)]["player.answer"] == "4"
    app.state.grove.db.dispose()
