"""The repeated prisoner's dilemma with re-matching and chat, and group_by_arrival_time."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session
from tests.test_multiplayer import RACE_PROJECT


def _start(client, link):
    return client.get(link, follow_redirects=False).headers["location"]


def _chat_token(html: str) -> str:
    return re.search(r'class="grove-chat" data-url="[^"]+" data-token="([^"]+)"', html).group(1)


def test_prisoner_three_rounds_with_rematching_and_chat(client, app):
    code, links = create_demo_session(client, "prisoner")
    urls = [_start(client, link) for link in links]
    pages = [client.get(url).text for url in urls]
    tokens = [_chat_token(page) for page in pages]

    # Chat: participant 1 writes; only their partner's box shows it.
    sent = client.post(
        urls[0].split("/prisoner/")[0] + "/chat",
        json={"token": tokens[0], "body": "let's cooperate <b>"},
    )
    assert sent.json()["ok"] is True
    seen = [
        client.get(url.split("/prisoner/")[0] + "/chat", params={"token": token}).json()["messages"]
        for url, token in zip(urls, tokens, strict=True)
    ]
    assert [len(m) for m in seen].count(1) == 2  # the writer and their partner
    assert seen[0][0]["body"] == "let's cooperate <b>"
    assert seen[0][0]["nickname"] == "Participant 1"
    forged = client.post(
        urls[1].split("/prisoner/")[0] + "/chat", json={"token": tokens[0], "body": "spoof"}
    )
    assert forged.status_code == 400

    for round_number in range(1, 4):
        for index, url in enumerate(urls):
            response = client.post(
                url, data={"cooperate": "True" if index % 2 else "False"}, follow_redirects=False
            )
            urls[index] = response.headers["location"]
        for index, url in enumerate(urls):
            page = client.get(url, follow_redirects=True)
            assert "/prisoner/Results/" in str(page.url), page.text
            urls[index] = str(page.url).replace("http://testserver", "")
        for index in range(4):
            urls[index] = client.post(urls[index], data={}, follow_redirects=False).headers[
                "location"
            ]
        detail = client.get(f"/api/sessions/{code}").json()
        for participant in detail["participants"]:
            if round_number < 3:
                assert participant["round_number"] == round_number + 1
            else:
                assert participant["current_app"] == "payment_info"
    assert all("/payment_info/PaymentInfo/" in url for url in urls)
    csv_text = client.get(f"/SessionChat/{code}.csv").text
    assert "let's cooperate <b>" in csv_text
    assert "Participant 1" in csv_text


def test_group_by_arrival_time_groups_in_arrival_order(tmp_path):
    settings = load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    with TestClient(app) as client:
        _code, links = create_demo_session(client, "lobby")
        order = [2, 0, 3, 1]  # participants 3, 1, 4, 2 arrive in this order
        urls = {}
        for position, index in enumerate(order):
            urls[index] = _start(client, links[index])
            if position == 0:
                assert "/lobby/Lobby/" in urls[index]
                assert client.get(urls[index] + "/status").json() == {"ready": False}
        results = {}
        for index in order:
            page = client.get(urls[index], follow_redirects=True)
            assert "/lobby/Play/" in str(page.url)
            mates = re.search(r'class="mates">([^<]*)<', page.text).group(1).split()
            results[index + 1] = sorted(int(m) for m in mates)
        assert results[3] == results[1] == [1, 3]
        assert results[4] == results[2] == [2, 4]
    app.state.grove.db.dispose()


@pytest.mark.parametrize("nickname_tag", ['{{ chat nickname="Boss" }}'])
def test_chat_tag_translates_with_arguments(nickname_tag):
    from server.templating import translate

    assert 'grove_chat(nickname="Boss")' in translate(nickname_tag)


def test_wait_for_all_groups_runs_the_subsession_hook_once_per_round(tmp_path):
    settings = load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    with TestClient(app) as client:
        _code, links = create_demo_session(client, "allgroups")
        urls = [_start(client, link) for link in links[:2]]
        waiting = client.get(urls[0])
        assert "Waiting for everybody" in waiting.text
        assert client.get(urls[0] + "/status").json() == {"ready": False}
        urls.append(_start(client, links[2]))  # the last of three groups arrives
        for round_number in (1, 2):
            for index, url in enumerate(urls):
                page = client.get(url, follow_redirects=True)
                assert f"/allgroups/Done/{2 * round_number}" in str(page.url)
                assert '<p class="runs">1</p>' in page.text
                assert f'<p class="prev">{round_number}</p>' in page.text
                urls[index] = client.post(
                    str(page.url).replace("http://testserver", ""), data={}, follow_redirects=False
                ).headers["location"]
    app.state.grove.db.dispose()


def _mates(html: str) -> list[int]:
    return sorted(int(m) for m in re.search(r'class="mates">([^<]*)<', html).group(1).split())


def test_group_by_arrival_time_in_round_1_keeps_its_groups_in_later_rounds(tmp_path):
    """oTree (multiplayer_waitpages.rst): with the grouping wait page in round 1 only, "subsequent
    rounds will keep the same group structure as round 1" (group_by_arrival_time copies it to
    future rounds). Here participants 3 and 1 are grouped first and play on into round 3 before
    4 and 2 arrive; each pair stays together in every round, and the first pair's round-2 data
    (its Sync wait page's after_all_players_arrive) is kept when the second pair is grouped."""
    settings = load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    with TestClient(app) as client:
        code, links = create_demo_session(client, "lobby_rounds")

        def play_round(index: int, url: str, round_number: int) -> str:
            page = client.get(url, follow_redirects=True)
            assert "/lobby_rounds/Play/" in str(page.url), page.text
            seen[index].append(_mates(page.text))
            return client.post(
                str(page.url).replace("http://testserver", ""), data={}, follow_redirects=False
            ).headers["location"]

        seen: dict[int, list[list[int]]] = {index: [] for index in range(4)}
        urls = {index: _start(client, links[index]) for index in (2, 0)}  # participants 3, 1
        for round_number in (1, 2):
            for index in (2, 0):
                urls[index] = play_round(index, urls[index], round_number)
        urls.update({index: _start(client, links[index]) for index in (3, 1)})  # 4, 2
        for round_number in (1, 2, 3):
            for index in (3, 1):
                urls[index] = play_round(index, urls[index], round_number)
        for index in (2, 0):
            urls[index] = play_round(index, urls[index], 3)
        assert seen[2] == seen[0] == [[1, 3]] * 3
        assert seen[3] == seen[1] == [[2, 4]] * 3
        grove = app.state.grove
        with grove.db.read() as db:
            from server.sessions import get_session

            session = get_session(db, code)
            for participant in session.get_participants():
                synced = [
                    participant_player.group.synced
                    for participant_player in _players(grove, db, participant)
                ]
                assert synced[:2] == [1, 1], (participant.id_in_session, synced)
    app.state.grove.db.dispose()


def _players(grove, db, participant):
    import sqlalchemy as sa

    player_cls = grove.project.apps["lobby_rounds"].player_cls
    return db.scalars(
        sa.select(player_cls)
        .where(player_cls.participant_id == participant.id)
        .order_by(player_cls.round_number)
    ).all()
