"""An app whose first page is a ``group_by_arrival_time`` wait page starts with all its players
in one group, in every round.

oTree's documentation (multiplayer_waitpages.rst): "If group_by_arrival_time = True, then in
creating_session, all players will initially be in the same group. Groups are only created
'on the fly' as players arrive at the wait page." Measured on oTree 6.0.15 (``otree test
lob 6 --export``, PLAYERS_PER_GROUP = 2, NUM_ROUNDS = 2): ``creating_session`` saw one group
in each round, with id_in_group 1-6. oTree decides this by the app's first page only; with the
grouping wait page second, ``otree test`` created pairs (its devserver refuses such an app,
"must be placed first in page_sequence"; Grove runs it, grouping at that page).

Grove once made PLAYERS_PER_GROUP groups at creation, so a treatment assigned per group in
``creating_session`` was assigned per pair, and the export showed participants who were never
grouped as paired.

The groups formed then, as measured on oTree 6.0.15 (bots with ``--export``; a lobby in every
round, in round 1 only, one of three with a method, one that lets each player go alone): each
is a new group row (fields at their defaults) in its round and every later round, numbered 1 +
the largest ``id_in_subsession`` of the app's groups in the session; the players not grouped
keep their group and id_in_group; a group left empty is deleted. Grove once regrouped the
round with set_group_matrix instead, numbering the groups formed 1, 2, ...: the first pair
took over group 1's row (its treatment T1) and numbers differed from oTree's.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session
from tests.rest_helpers import HEADERS, REST_KEY

APP = """
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "{name}"
    PLAYERS_PER_GROUP = {size}
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    groups_at_creation = models.IntegerField()


class Group(BaseGroup):
    treatment = models.StringField()
    formed = models.StringField()


class Player(BasePlayer):
    group_at_creation = models.IntegerField()
    id_in_group_at_creation = models.IntegerField()
    groups_seen = models.LongStringField()
    group_in_round_1 = models.StringField()


def creating_session(subsession):
    subsession.groups_at_creation = len(subsession.get_groups())
    for number, group in enumerate(subsession.get_groups(), start=1):
        group.treatment = f"T{{number}}"
    for player in subsession.get_players():
        player.group_at_creation = player.group.id_in_subsession
        player.id_in_group_at_creation = player.id_in_group
{method}

class Intro(Page):
    pass


class Lobby(WaitPage):
    group_by_arrival_time = True

    @staticmethod
    def is_displayed(player):
        return player.participant.id_in_session != {skipper}

    @staticmethod
    def after_all_players_arrive(group):
        group.formed = ",".join(str(p.participant.id_in_session) for p in group.get_players())


class Play(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        # Every group of every round, as app code sees them: "round: id[member.id_in_group]".
        player.groups_seen = " | ".join(
            f"{{number}}: " + " ".join(
                f"{{group.id_in_subsession}}["
                + ",".join(
                    f"{{p.participant.id_in_session}}.{{p.id_in_group}}"
                    for p in group.get_players()
                )
                + "]"
                for group in player.subsession.in_round(number).get_groups()
            )
            for number in range(1, C.NUM_ROUNDS + 1)
        )
        try:
            player.group_in_round_1 = str(player.group.in_round(1).id_in_subsession)
        except ValueError as error:  # as oTree's InvalidRoundError, a ValueError
            player.group_in_round_1 = f"ValueError: {{error}}"


page_sequence = {pages}
"""

# oTree 6.0.15's lobby of three, measured with bots: 9 participants, the 9th skips the lobby
# (never grouped); the method pairs 7 and 8 (in the order 8, 7) once they are the last.
TRIO_METHOD = """

def group_by_arrival_time_method(subsession, waiting_players):
    if len(waiting_players) >= 3:
        return waiting_players[:3]
    if sorted(p.participant.id_in_session for p in waiting_players) == [7, 8]:
        return [waiting_players[1], waiting_players[0]]
"""


def _project(root: Path) -> Path:
    """Apps ``lob`` (the grouping wait page first), ``late`` (an Intro page before it) and
    ``trio`` (groups of three chosen by a group_by_arrival_time_method)."""
    root.mkdir()
    (root / "settings.py").write_text("")
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [\n"
        "    dict(name='lob', app_sequence=['lob'], num_demo_participants=6),\n"
        "    dict(name='late', app_sequence=['late'], num_demo_participants=6),\n"
        "    dict(name='trio', app_sequence=['trio'], num_demo_participants=9),\n"
        "]\n"
    )
    apps = (
        ("lob", 2, "", 0, "[Lobby, Play]"),
        ("late", 2, "", 0, "[Intro, Lobby, Play]"),
        ("trio", 3, TRIO_METHOD, 9, "[Lobby, Play]"),
    )
    for name, size, method, skipper, pages in apps:
        app_dir = root / "apps" / name
        app_dir.mkdir(parents=True)
        (app_dir / "__init__.py").write_text(
            APP.format(name=name, size=size, method=method, skipper=skipper, pages=pages)
        )
        for page in ("Intro", "Play"):
            (app_dir / f"{page}.html").write_text(
                "{{ block content }}{{ next_button }}{{ endblock }}"
            )
    return root


def _client(tmp_path: Path) -> tuple[TestClient, object]:
    root = _project(tmp_path / "project")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    return TestClient(app), app


def _export(client: TestClient, app_name: str, code: str) -> dict[tuple[int, int], list[str]]:
    """The app's export through the REST API: (round, id_in_session) -> [group,
    id_in_group, group at creation, id_in_group at creation, groups at creation,
    treatment]."""
    response = client.get(f"/api/export/{app_name}?session={code}", headers=HEADERS)
    assert response.status_code == 200, response.text
    rows = {}
    for row in csv.DictReader(io.StringIO(response.text)):
        key = (int(row["subsession.round_number"]), int(row["participant.id_in_session"]))
        rows[key] = [
            row["group.id_in_subsession"],
            row["player.id_in_group"],
            row["player.group_at_creation"],
            row["player.id_in_group_at_creation"],
            row["subsession.groups_at_creation"],
            row["group.treatment"],
        ]
    return rows


def _places(client: TestClient, app_name: str, code: str) -> dict[tuple[int, int], tuple[str, ...]]:
    """(round, id_in_session) -> (group.id_in_subsession, id_in_group, group.treatment,
    group.formed), from the REST export."""
    response = client.get(f"/api/export/{app_name}?session={code}", headers=HEADERS)
    assert response.status_code == 200, response.text
    return {
        (int(row["subsession.round_number"]), int(row["participant.id_in_session"])): (
            row["group.id_in_subsession"],
            row["player.id_in_group"],
            row["group.treatment"],
            row["group.formed"],
        )
        for row in csv.DictReader(io.StringIO(response.text))
    }


def _column(
    client: TestClient, app_name: str, code: str, column: str
) -> dict[tuple[int, int], str]:
    """(round, id_in_session) -> the export's ``column``."""
    response = client.get(f"/api/export/{app_name}?session={code}", headers=HEADERS)
    assert response.status_code == 200, response.text
    return {
        (int(row["subsession.round_number"]), int(row["participant.id_in_session"])): row[column]
        for row in csv.DictReader(io.StringIO(response.text))
    }


def _groups_seen(client: TestClient, app_name: str, code: str) -> dict[tuple[int, int], str]:
    """(round, id_in_session) -> the groups the player's Play page saw (``groups_seen``)."""
    return _column(client, app_name, code, "player.groups_seen")


def _arrive(client: TestClient, url: str, page: str) -> str:
    """GET ``url`` (following redirects), which must land on ``page``; the page's path."""
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200, response.text
    assert page in response.url.path, (page, response.url.path)
    return response.url.path


def _submit_play(client: TestClient, path: str) -> str:
    """Submit the Play page at ``path``; where the answer leads."""
    answer = client.post(path, data={}, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["location"]


def test_creating_session_sees_one_group_then_groups_form_on_arrival(tmp_path: Path) -> None:
    client, app = _client(tmp_path)
    try:
        with client:
            code, links = create_demo_session(client, "lob")
            # Nobody has started: one group of six in each round, as creating_session saw it.
            assert _export(client, "lob", code) == {
                (round_number, number): ["1", str(number), "1", str(number), "1", "T1"]
                for round_number in (1, 2)
                for number in range(1, 7)
            }

            # Participants 4 and 2 arrive at the lobby: as in oTree 6.0.15, they form a new
            # group (its fields at their defaults, the round's creating_session never saw it),
            # numbered 1 + the largest id_in_subsession of the app's groups in the session,
            # in this round and copied to round 2. The four others stay in group 1 with their
            # id_in_group unchanged.
            lobby_4 = _arrive(client, links[3], "/lob/Lobby/")
            play_2 = _arrive(client, links[1], "/lob/Play/")
            places = _places(client, "lob", code)
            for round_number in (1, 2):
                formed = "4,2" if round_number == 1 else ""
                assert places[(round_number, 4)] == ("2", "1", "", formed)
                assert places[(round_number, 2)] == ("2", "2", "", formed)
                for number in (1, 3, 5, 6):
                    assert places[(round_number, number)] == ("1", str(number), "T1", "")

            # 6 and 5, then 1 and 3: groups 3 and 4. Group 1, left without players, is gone
            # from both rounds (oTree deletes it).
            _arrive(client, links[5], "/lob/Lobby/")
            _arrive(client, links[4], "/lob/Play/")
            _arrive(client, links[0], "/lob/Lobby/")
            _arrive(client, links[2], "/lob/Play/")
            expected = {
                4: ("2", "1", "4,2"),
                2: ("2", "2", "4,2"),
                6: ("3", "1", "6,5"),
                5: ("3", "2", "6,5"),
                1: ("4", "1", "1,3"),
                3: ("4", "2", "1,3"),
            }
            places = _places(client, "lob", code)
            for number, (group, id_in_group, formed) in expected.items():
                assert places[(1, number)] == (group, id_in_group, "", formed)
                assert places[(2, number)] == (group, id_in_group, "", "")
            next_2 = _submit_play(client, _arrive(client, play_2, "/lob/Play/"))
            both_rounds = "2[4.1,2.2] 3[6.1,5.2] 4[1.1,3.2]"
            assert _groups_seen(client, "lob", code)[(1, 2)] == (
                f"1: {both_rounds} | 2: {both_rounds}"
            )

            # Round 2 groups its own arrivals: 2 then 4 make group 5 (the session's groups of
            # this app go up to 4, in both rounds); round 2's group 2, left empty, is deleted,
            # round 1's stays.
            assert "/lob/Lobby/" in _arrive(client, next_2, "/lob/Lobby/")
            next_4 = _submit_play(client, _arrive(client, lobby_4, "/lob/Play/"))
            play_4 = _arrive(client, next_4, "/lob/Play/")
            places = _places(client, "lob", code)
            assert places[(2, 2)] == ("5", "1", "", "2,4")
            assert places[(2, 4)] == ("5", "2", "", "2,4")
            assert places[(1, 2)] == ("2", "2", "", "4,2")
            _submit_play(client, play_4)
            assert _groups_seen(client, "lob", code)[(2, 4)] == (
                f"1: {both_rounds} | 2: 3[6.1,5.2] 4[1.1,3.2] 5[2.1,4.2]"
            )
            # Round 1 has no group 5: group.in_round(1) is a ValueError, as in oTree 6.0.15
            # ("No corresponding Group found with round_number=1"); round 1's own Play found
            # its group.
            found = _column(client, "lob", code, "player.group_in_round_1")
            assert found[(1, 2)] == "2"
            assert found[(2, 4)] == (
                "ValueError: round 1 has no group numbered 5 (id_in_subsession), the number "
                "of this group: groups formed by group_by_arrival_time or set_group_matrix "
                "need not be in every round"
            )
    finally:
        app.state.grove.db.dispose()


def test_a_player_never_grouped_keeps_the_first_group_and_its_place(tmp_path: Path) -> None:
    # Measured on oTree 6.0.15 (`otree test trio 9 --export`): the 9th, who skips the lobby,
    # stays in group 1 as its 9th player with the treatment creating_session gave it; the
    # groups formed are 2, 3 and 4, members numbered in the order the method chose.
    client, app = _client(tmp_path)
    try:
        with client:
            code, links = create_demo_session(client, "trio")
            for number in range(1, 9):
                client.get(links[number - 1], follow_redirects=True)
            play_9 = _arrive(client, links[8], "/trio/Play/")  # the lobby is not for them
            places = _places(client, "trio", code)
            expected = {
                1: ("2", "1", "1,2,3"),
                2: ("2", "2", "1,2,3"),
                3: ("2", "3", "1,2,3"),
                4: ("3", "1", "4,5,6"),
                5: ("3", "2", "4,5,6"),
                6: ("3", "3", "4,5,6"),
                7: ("4", "2", "8,7"),
                8: ("4", "1", "8,7"),
            }
            for number, (group, id_in_group, formed) in expected.items():
                assert places[(1, number)] == (group, id_in_group, "", formed)
                assert places[(2, number)] == (group, id_in_group, "", "")
            assert places[(1, 9)] == ("1", "9", "T1", "")
            assert places[(2, 9)] == ("1", "9", "T1", "")
            _submit_play(client, play_9)
            both_rounds = "1[9.9] 2[1.1,2.2,3.3] 3[4.1,5.2,6.3] 4[8.1,7.2]"
            assert _groups_seen(client, "trio", code)[(1, 9)] == (
                f"1: {both_rounds} | 2: {both_rounds}"
            )
    finally:
        app.state.grove.db.dispose()


def test_a_grouping_wait_page_after_another_page_keeps_the_groups_of_its_size(
    tmp_path: Path,
) -> None:
    # As oTree's `otree test` did: only a grouping wait page first in page_sequence starts
    # the app in one group.
    client, app = _client(tmp_path)
    try:
        with client:
            code, _links = create_demo_session(client, "late")
            assert _export(client, "late", code) == {
                (round_number, number): [
                    str((number + 1) // 2),
                    str(2 - number % 2),
                    str((number + 1) // 2),
                    str(2 - number % 2),
                    "3",
                    f"T{(number + 1) // 2}",
                ]
                for round_number in (1, 2)
                for number in range(1, 7)
            }
    finally:
        app.state.grove.db.dispose()
