"""group_by_arrival_time copies each new group to the app's later rounds (as oTree does, for
the group's members). Forming a group is one write under the subsession's lock (on SQLite:
the database write lock), so the copying's work must not grow with everyone else in the
session: with 20 rounds and 40 participants one grouping arrival once ran about 1,700
statements and held the write lock for 8-13 s on a loaded machine, so other writers were
answered "The database is busy" (a reviewer's case)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session

APP = """
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "lob"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = {rounds}


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Lobby(WaitPage):
    group_by_arrival_time = True

    @staticmethod
    def is_displayed(player):
        return player.round_number == 1


class Play(Page):
    pass


page_sequence = [Lobby, Play]
"""


def _grouping_statements(root: Path, rounds: int, participants: int) -> int:
    """The SQL statements of the arrival that forms the first pair's group."""
    app_dir = root / "apps" / "lob"
    app_dir.mkdir(parents=True)
    (root / "settings.py").write_text("")
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [dict(name='lob', app_sequence=['lob'], "
        f"num_demo_participants={participants})]\n"
    )
    (app_dir / "__init__.py").write_text(APP.format(rounds=rounds))
    (app_dir / "Play.html").write_text("{{ block content }}{{ next_button }}{{ endblock }}")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(root)})
    app = create_app(settings)
    counted = [0]

    def count(*_args: object) -> None:
        counted[0] += 1

    try:
        with TestClient(app) as client:
            _code, links = create_demo_session(client, "lob")
            assert client.get(links[0], follow_redirects=True).status_code == 200
            sa.event.listen(app.state.grove.db.engine, "before_cursor_execute", count)
            try:
                page = client.get(links[1], follow_redirects=True)
            finally:
                sa.event.remove(app.state.grove.db.engine, "before_cursor_execute", count)
            assert "/lob/Play/" in str(page.url), page.text
            with app.state.grove.db.read() as db:
                players = db.execute(
                    sa.text(
                        "SELECT p.round_number, g.id_in_subsession, p.id_in_group, "
                        "pa.id_in_session FROM lob_player p JOIN lob_group g ON "
                        "g.id = p.group_id JOIN grove_participant pa ON pa.id = "
                        "p.participant_id ORDER BY p.round_number, g.id_in_subsession, "
                        "p.id_in_group"
                    )
                ).all()
            for round_number in range(1, rounds + 1):
                in_round = [tuple(r[1:]) for r in players if r[0] == round_number]
                # As in oTree 6.0.15: the pair formed first is a new group 2 in every round;
                # the others stay in group 1, each with their id_in_group.
                assert in_round == [
                    *((1, number, number) for number in range(3, participants + 1)),
                    (2, 1, 1),
                    (2, 2, 2),
                ], (round_number, in_round)
    finally:
        app.state.grove.db.dispose()
    return counted[0]


def test_forming_a_group_by_arrival_does_not_grow_with_the_other_participants(
    tmp_path: Path,
) -> None:
    # The copying into 7 later rounds: its statements with 4 participants and with 24.
    few = _grouping_statements(tmp_path / "few8", 8, 4) - _grouping_statements(
        tmp_path / "few1", 1, 4
    )
    many = _grouping_statements(tmp_path / "many8", 8, 24) - _grouping_statements(
        tmp_path / "many1", 1, 24
    )
    assert many <= few + 10, (few, many)
