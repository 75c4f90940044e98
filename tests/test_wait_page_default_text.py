"""A wait page without its own ``body_text`` says what oTree 6.0.15's says
(``WaitPage._get_default_body_text``): "Waiting for the other participant." when one other
player is waited for, "Waiting for the other participants." when more are, and "Waiting to
form a group with other participants." on a ``group_by_arrival_time`` page. Found playing
oTree's sample trust game (``trust_simple``, pairs) on both servers: Grove said
"participants" to the trustee waiting for one trustor."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session

APP = """
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "{name}"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Pair(WaitPage):
    group_by_arrival_time = {by_arrival}


class Everyone(WaitPage):
    wait_for_all_groups = True


class End(Page):
    pass


page_sequence = [Pair, Everyone, End]
"""


def _project(root: Path) -> Path:
    root.mkdir()
    (root / "settings.py").write_text(
        "SESSION_CONFIGS = [\n"
        "    dict(name='pairs', app_sequence=['pairs'], num_demo_participants=4),\n"
        "    dict(name='lobby', app_sequence=['lobby'], num_demo_participants=4),\n"
        "]\n"
    )
    for name, by_arrival in (("pairs", False), ("lobby", True)):
        (root / name).mkdir()
        (root / name / "__init__.py").write_text(APP.format(name=name, by_arrival=by_arrival))
        (root / name / "End.html").write_text("{{ block content }}{{ next_button }}{{ endblock }}")
    return root


def _body(html: str) -> str:
    found = re.search(r'<p class="otree-wait-page__body">(.*?)</p>', html, re.S)
    assert found, html
    return found.group(1).strip()


def test_a_wait_page_without_body_text_counts_whom_it_waits_for(tmp_path):
    root = _project(tmp_path / "project")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    with TestClient(app) as client:
        _code, links = create_demo_session(client, "pairs")
        first = client.get(links[0])
        assert "/pairs/Pair/" in str(first.url)
        assert _body(first.text) == "Waiting for the other participant."
        # The pair is complete: both go on to wait for the whole subsession (3 others).
        client.get(links[1])
        on_everyone = client.get(str(first.url).replace("/Pair/1", "/Everyone/2"))
        assert "/pairs/Everyone/" in str(on_everyone.url)
        assert _body(on_everyone.text) == "Waiting for the other participants."

        _code, links = create_demo_session(client, "lobby")
        lobby = client.get(links[0])
        assert "/lobby/Pair/" in str(lobby.url)
        assert _body(lobby.text) == "Waiting to form a group with other participants."
    app.state.grove.db.dispose()
