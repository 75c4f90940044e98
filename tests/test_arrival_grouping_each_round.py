"""group_by_arrival_time in every round, on PostgreSQL: a group formed in round 1 is copied to
round 2 (oTree copies the group structure to future rounds) while round 2 may be grouping its
own arrivals under round 2's subsession lock. The copy takes that lock too (LOCK ORDER: the
rounds' subsessions in ascending round), so the two never rewrite round 2's players at once
from stale reads (before, they could: two groups with the same member, or a gap). The new
group's number (after the app's highest in the session, as oTree numbers it) is read only
under that lock too, so two rounds grouping at once cannot take one number."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from server.models.core import Participant
from tests import databases
from tests.conftest import create_demo_session
from tests.test_multiplayer import RACE_PROJECT
from tests.test_multiplayer_more import _mates

pytestmark = pytest.mark.postgres

APP = "lobby_each_round"


def _arrive(client: TestClient, url: str) -> str:
    """GET a page (following redirects); its path."""
    page = client.get(url, follow_redirects=True)
    assert page.status_code == 200, page.text
    return page.url.path


def _play(client: TestClient, url: str) -> tuple[list[int], str]:
    """On Play: the group's members (ids in session), and where submitting it leads."""
    page = client.get(url, follow_redirects=True)
    assert f"/{APP}/Play/" in page.url.path, page.text
    answer = client.post(page.url.path, data={}, follow_redirects=False)
    return _mates(page.text), answer.headers["location"]


def test_a_round_1_group_copied_to_round_2_waits_for_round_2_grouping(tmp_path: Path) -> None:
    url = databases.database_url(tmp_path, backend=databases.POSTGRESQL)
    app = create_app(load_settings(RACE_PROJECT, {"DATABASE_URL": url}))
    grove = app.state.grove
    try:
        with TestClient(app) as client:
            code, links = create_demo_session(client, APP)
            # Starting is arriving (the first page is the lobby). 3 and 1 pair up in round 1;
            # 1 plays it and waits in round 2 (submitting Play arrives at the next lobby).
            waiting_3 = _arrive(client, links[2])
            assert f"/{APP}/Lobby/" in waiting_3
            mates, next_1 = _play(client, links[0])
            assert mates == [1, 3]
            assert f"/{APP}/Lobby/" in _arrive(client, next_1)

            # Participant 3's round-2 arrival is under way: it holds round 2's subsession.
            subsession_cls = grove.project.apps[APP].subsession_cls
            done = threading.Event()
            paths: list[str] = []
            group_cls = grove.project.apps[APP].group_cls
            with grove.db.transaction() as db:
                round_2 = db.execute(
                    sa.select(subsession_cls.id, subsession_cls.session_id)
                    .where(subsession_cls.round_number == 2)
                    .with_for_update()
                ).one()
                # What round 2's grouping writes under that lock: a new group, numbered 3
                # (after group 2, the pair 3 and 1). The pair formed meanwhile in round 1
                # must read the highest number only once it holds round 2's lock: 4, not 3.
                db.add(
                    group_cls(
                        session_id=round_2.session_id,
                        subsession_id=round_2.id,
                        round_number=2,
                        id_in_subsession=3,
                    )
                )

                def pair_4_and_2() -> None:
                    paths.append(_arrive(client, links[3]))
                    paths.append(_arrive(client, links[1]))  # (4, 2): copied to round 2
                    done.set()

                pairing = threading.Thread(target=pair_4_and_2)
                pairing.start()
                time.sleep(1.0)
                assert not done.is_set(), "round 2 was regrouped under another's lock"
            pairing.join(timeout=30)
            assert done.is_set()

            # Round 2: 3 joins 1; 4 and 2 play round 1 and pair again in round 2.
            mates, next_3 = _play(client, waiting_3)
            assert mates == [1, 3]
            assert _play(client, next_3)[0] == [1, 3]
            assert _play(client, next_1)[0] == [1, 3]
            mates_4, next_4 = _play(client, paths[0])
            mates_2, next_2 = _play(client, paths[1])
            assert mates_4 == mates_2 == [2, 4]
            assert _play(client, next_4)[0] == [2, 4]
            assert _play(client, next_2)[0] == [2, 4]
            _assert_round_groups_consistent(grove, code)
            # Numbered as oTree 6.0.15 does: after the app's highest group number in the
            # session, at each group formed; round 1's pairs are 2 and 4, round 2's 5 and 6.
            assert _numbers(grove) == {
                (1, 3): (2, 1),
                (1, 1): (2, 2),
                (1, 4): (4, 1),
                (1, 2): (4, 2),
                (2, 1): (5, 1),
                (2, 3): (5, 2),
                (2, 4): (6, 1),
                (2, 2): (6, 2),
            }
    finally:
        grove.db.dispose()


def _assert_round_groups_consistent(grove: Any, code: str) -> None:
    """Every round's players: each in one group, numbered 1..n within it."""
    player_cls = grove.project.apps[APP].player_cls
    with grove.db.read() as db:
        rows = db.execute(
            sa.select(player_cls.round_number, player_cls.group_id, player_cls.id_in_group)
        ).all()
    places: dict[tuple[int, int], list[int]] = {}
    for round_number, group_id, id_in_group in rows:
        places.setdefault((round_number, group_id), []).append(id_in_group)
    for key, numbers in places.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), (key, numbers)


def _numbers(grove: Any) -> dict[tuple[int, int], tuple[int, int]]:
    """(round, participant's id_in_session) -> (group's id_in_subsession, id_in_group)."""
    app = grove.project.apps[APP]
    player_cls, group_cls = app.player_cls, app.group_cls
    with grove.db.read() as db:
        rows = db.execute(
            sa.select(
                player_cls.round_number,
                Participant.id_in_session,
                group_cls.id_in_subsession,
                player_cls.id_in_group,
            )
            .join(group_cls, group_cls.id == player_cls.group_id)
            .join(Participant, Participant.id == player_cls.participant_id)
        ).all()
    return {(r, number): (group, place) for r, number, group, place in rows}
