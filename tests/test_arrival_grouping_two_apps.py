"""Two apps of one session that group by arrival time, each with an ExtraModel linked to its
groups, played through HTTP.

Each app numbers the groups it forms on its own, as oTree 6.0.15 does (1 + the largest
``id_in_subsession`` of that app's groups in the session, measured for 9d3fbc8): 2 and 3 in
round 1 (everyone starts in group 1), 4 and 5 in round 2. A group left without players is
deleted, and the ExtraModel rows linked to it go with it (the link's ON DELETE CASCADE, as in
oTree, whose SQLite has foreign keys on), so each group formed holds only the row its
``after_all_players_arrive`` made. ``group.in_round(1)`` of a group formed in round 2 is
oTree's InvalidRoundError, a ValueError. The admin Monitor's data answers while groups form.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.rest_helpers import HEADERS, REST_KEY

APP = """
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "{name}"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    formed = models.StringField()


class Player(BasePlayer):
    seen = models.StringField()


class Note(ExtraModel):
    group = models.Link(Group)
    text = models.StringField()


def creating_session(subsession):
    for group in subsession.get_groups():
        Note.create(group=group, text="at creation")


class Lobby(WaitPage):
    group_by_arrival_time = True

    @staticmethod
    def after_all_players_arrive(group):
        group.formed = ",".join(str(p.participant.id_in_session) for p in group.get_players())
        Note.create(group=group, text="formed")


class Play(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        try:
            first = str(player.group.in_round(1).id_in_subsession)
        except ValueError:
            first = "none"
        notes = ",".join(note.text for note in Note.filter(group=player.group))
        player.seen = f"{{first}}/{{notes}}"


page_sequence = [Lobby, Play]
"""


def _client(tmp_path: Path) -> tuple[TestClient, object]:
    root = tmp_path / "project"
    root.mkdir()
    (root / "settings.py").write_text("")
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [\n"
        "    dict(name='two', app_sequence=['ga', 'gb'], num_demo_participants=4),\n"
        "]\n"
    )
    for name in ("ga", "gb"):
        app_dir = root / "apps" / name
        app_dir.mkdir(parents=True)
        (app_dir / "__init__.py").write_text(APP.format(name=name))
        (app_dir / "Play.html").write_text("{{ block content }}{{ next_button }}{{ endblock }}")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    return TestClient(app), app


def test_two_grouping_apps_number_their_groups_and_drop_the_emptied_ones_notes(tmp_path):
    client, app = _client(tmp_path)
    with client:
        created = client.post(
            "/api/sessions/",
            json={"session_config_name": "two", "num_participants": 4},
            headers=HEADERS,
        )
        assert created.status_code == 200, created.text
        session = created.json()["code"]
        people = client.get(f"/api/sessions/{session}", headers=HEADERS).json()["participants"]
        codes = [p["code"] for p in sorted(people, key=lambda p: p["id_in_session"])]
        where = {code: f"/InitializeParticipant/{code}" for code in codes}
        for _ in range(4):  # two apps of two rounds: in pairs 1-2 and 3-4, as they arrive
            for code in codes:  # each reaches the lobby; the second of a pair is grouped
                page = client.get(where[code], follow_redirects=True)
                assert page.status_code == 200, page.text[:500]
                monitor = client.get(f"/SessionMonitor/{session}/data")
                assert monitor.status_code == 200, monitor.text[:500]
                where[code] = page.url.path
            for code in codes:
                page = client.get(where[code], follow_redirects=True)
                assert "/Play/" in page.url.path, page.url.path
                done = client.post(page.url.path, data={}, follow_redirects=True)
                assert done.status_code == 200, done.text[:500]
                where[code] = done.url.path
        for name in ("ga", "gb"):
            export = client.get(f"/api/export/{name}?session={session}", headers=HEADERS)
            assert export.status_code == 200, export.text
            rows = {
                (int(row["subsession.round_number"]), int(row["participant.id_in_session"])): (
                    row["group.id_in_subsession"],
                    row["player.id_in_group"],
                    row["group.formed"],
                    row["player.seen"],
                )
                for row in csv.DictReader(io.StringIO(export.text))
            }
            assert rows == {
                (1, 1): ("2", "1", "1,2", "2/formed"),
                (1, 2): ("2", "2", "1,2", "2/formed"),
                (1, 3): ("3", "1", "3,4", "3/formed"),
                (1, 4): ("3", "2", "3,4", "3/formed"),
                (2, 1): ("4", "1", "1,2", "none/formed"),
                (2, 2): ("4", "2", "1,2", "none/formed"),
                (2, 3): ("5", "1", "3,4", "none/formed"),
                (2, 4): ("5", "2", "3,4", "none/formed"),
            }, name
    app.state.grove.db.dispose()
