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
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    groups_at_creation = models.IntegerField()


class Group(BaseGroup):
    treatment = models.StringField()


class Player(BasePlayer):
    group_at_creation = models.IntegerField()
    id_in_group_at_creation = models.IntegerField()


def creating_session(subsession):
    subsession.groups_at_creation = len(subsession.get_groups())
    for number, group in enumerate(subsession.get_groups(), start=1):
        group.treatment = f"T{{number}}"
    for player in subsession.get_players():
        player.group_at_creation = player.group.id_in_subsession
        player.id_in_group_at_creation = player.id_in_group


class Intro(Page):
    pass


class Lobby(WaitPage):
    group_by_arrival_time = True


class Play(Page):
    pass


page_sequence = {pages}
"""


def _project(root: Path) -> Path:
    """Apps ``lob`` (the grouping wait page first) and ``late`` (an Intro page before it)."""
    root.mkdir()
    (root / "settings.py").write_text("")
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [\n"
        "    dict(name='lob', app_sequence=['lob'], num_demo_participants=6),\n"
        "    dict(name='late', app_sequence=['late'], num_demo_participants=6),\n"
        "]\n"
    )
    for name, pages in (("lob", "[Lobby, Play]"), ("late", "[Intro, Lobby, Play]")):
        app_dir = root / "apps" / name
        app_dir.mkdir(parents=True)
        (app_dir / "__init__.py").write_text(APP.format(name=name, pages=pages))
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

            # Participants 4 and 2 arrive at the lobby: they form the first group, copied to
            # round 2; the four others, not grouped yet, stay together in the group after it.
            assert "/lob/Lobby/" in client.get(links[3], follow_redirects=True).url.path
            assert "/lob/Play/" in client.get(links[1], follow_redirects=True).url.path
            places = {key: row[:2] for key, row in _export(client, "lob", code).items()}
            for round_number in (1, 2):
                assert places[(round_number, 4)] == ["1", "1"]
                assert places[(round_number, 2)] == ["1", "2"]
                for place, number in enumerate((1, 3, 5, 6), start=1):
                    assert places[(round_number, number)] == ["2", str(place)]
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
