"""``group.set_players(players)``: the players' id_in_group (and so their roles) follow the
list's order. The expected values are oTree 6.0.15's, measured in ``creating_session`` of the
same app: reversing a group of two [(1, P1), (2, P2)] gives [(1, P2), (2, P1)] and the matrix
[[2, 1], [3, 4]]; moving P3 in front of that group gives it [(1, P3), (2, P2), (3, P1)] and
leaves P4 alone in the other with id_in_group 2 (oTree checks nothing more); numbers instead
of players fail (oTree: AttributeError).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from server.models.core import ExperimentSession
from tests import databases
from tests.conftest import create_demo_session

EXTRAS = Path(__file__).resolve().parent / "projects" / "extras"


@pytest.fixture
def market(tmp_path: Path) -> Iterator[tuple[Starlette, TestClient]]:
    app = create_app(load_settings(EXTRAS, {"DATABASE_URL": databases.database_url(tmp_path)}))
    with TestClient(app) as client:
        yield app, client
    app.state.grove.db.dispose()


def _subsession(app: Starlette, db: Any, code: str) -> Any:
    m = app.state.grove.project.apps["market"].module
    session_id = db.scalar(sa.select(ExperimentSession.id).where(ExperimentSession.code == code))
    return db.scalars(sa.select(m.Subsession).where(m.Subsession.session_id == session_id)).one()


def _ids(group: Any) -> list[tuple[int, int]]:
    return [(p.id_in_group, p.participant.id_in_session) for p in group.get_players()]


def test_set_players_numbers_the_players_in_the_lists_order(market):
    app, client = market
    code, _links = create_demo_session(client, "market")
    with app.state.grove.db.transaction() as db:
        subsession = _subsession(app, db, code)
        group, other = subsession.get_groups()
        assert _ids(group) == [(1, 1), (2, 2)]
        group.set_players(list(reversed(group.get_players())))
        assert _ids(group) == [(1, 2), (2, 1)]
        assert [p.role for p in group.get_players()] == ["buyer", "seller"]
        assert subsession.get_group_matrix() == [[2, 1], [3, 4]]

        moved = other.get_players()[0]
        group.set_players([moved, *group.get_players()])
        assert _ids(group) == [(1, 3), (2, 2), (3, 1)]
        assert _ids(other) == [(2, 4)]
        assert moved.group.id == group.id
        assert subsession.get_group_matrix() == [[3, 2, 1], [4]]


def test_set_players_refuses_numbers_duplicates_and_other_rounds_players(market):
    app, client = market
    first, _ = create_demo_session(client, "market")
    second, _ = create_demo_session(client, "market")
    with app.state.grove.db.transaction() as db:
        group = _subsession(app, db, first).get_groups()[0]
        stranger = _subsession(app, db, second).get_players()[0]
        with pytest.raises(TypeError, match="set_players takes this app's Player objects"):
            group.set_players([1, 2])
        players = group.get_players()
        with pytest.raises(ValueError, match="appears twice"):
            group.set_players([players[0], players[0]])
        with pytest.raises(ValueError, match="is not a player of this group's round"):
            group.set_players([stranger, players[0]])
        assert _ids(group) == [(1, 1), (2, 2)]  # nothing changed


def test_set_players_in_a_wait_page_swaps_the_roles_shown_afterwards(market):
    app, client = market
    code, links = create_demo_session(client, "market")
    urls = [client.get(link, follow_redirects=False).headers["location"] for link in links]
    for url in urls:
        assert client.post(url, data={"num_bids": "1", "amount": "5"}).status_code == 200
    shown = [client.get(link).text for link in links]
    assert "You are the seller, player 2." in shown[0]
    assert "You are the buyer, player 1." in shown[1]
    with app.state.grove.db.read() as db:
        players = sorted(
            _subsession(app, db, code).get_players(), key=lambda p: p.participant.id_in_session
        )
        assert [p.first_role for p in players] == ["buyer", "seller", "buyer", "seller"]
        assert [p.role for p in players] == ["seller", "buyer", "seller", "buyer"]


def test_a_players_id_in_subsession_is_its_participants_id_in_session(market):
    """oTree's Player.id_in_subsession (documented under Participant.id_in_session), also
    after set_players has moved players between groups."""
    app, client = market
    code, _links = create_demo_session(client, "market")
    with app.state.grove.db.transaction() as db:
        subsession = _subsession(app, db, code)
        group, _other = subsession.get_groups()
        group.set_players(list(reversed(group.get_players())))
        assert [(p.id_in_subsession, p.participant.id_in_session) for p in group.get_players()] == [
            (2, 2),
            (1, 1),
        ]
        assert sorted(p.id_in_subsession for p in subsession.get_players()) == [1, 2, 3, 4]
