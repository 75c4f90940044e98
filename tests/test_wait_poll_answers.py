"""The wait page's held status request (``?wait=1``), once its page completes, moves its
participant on (server/web/participant_routes.wait_status). What it must not do: hide a bug
in the app's code behind an error answer the page's script only asks again after (the page
reloads instead, and the reload shows the error as oTree's would), or move on a participant
whose page was closed while it waited (their next request does, as a reload would)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases

APP = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "waiting"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Intro(Page):
    pass


class Wait(WaitPage):
    pass


class Next(Page):
    @staticmethod
    def is_displayed(player):
        if player.session.config.get("buggy") and player.id_in_group == 1:
            return player.participant.vars["treatment"]  # never set: KeyError
        return True


page_sequence = [Intro, Wait, Next]
"""


def _project(root: Path) -> Path:
    (root / "waiting").mkdir(parents=True)
    (root / "settings.py").write_text(
        "SESSION_CONFIGS = [\n"
        '    dict(name="buggy", app_sequence=["waiting"], num_demo_participants=2, buggy=True),\n'
        '    dict(name="fine", app_sequence=["waiting"], num_demo_participants=2),\n'
        "]\n"
        'SECRET_KEY = "x"\n'
    )
    (root / "waiting" / "__init__.py").write_text(APP)
    for page in ("Intro", "Next"):
        (root / "waiting" / f"{page}.html").write_text(
            "{{ block content }}" + page + "{{ next_button }}{{ endblock }}\n"
        )
    return root


def _client(tmp_path: Path) -> tuple[Any, TestClient]:
    settings = load_settings(
        _project(tmp_path / "project"), {"DATABASE_URL": databases.database_url(tmp_path)}
    )
    app = create_app(settings)
    return app, TestClient(app, raise_server_exceptions=False)


def _first_waits_second_completes(client: TestClient, config: str) -> tuple[str, str]:
    """Both players of a new session past Intro, the first one first; the first player's
    code and wait page URL."""
    created = client.post(
        "/api/sessions/", json={"session_config_name": config, "num_participants": 2}
    )
    assert created.status_code == 200, created.text
    people = client.get(f"/api/sessions/{created.json()['code']}").json()["participants"]
    first, second = (p["code"] for p in sorted(people, key=lambda p: p["id_in_session"]))
    intro = client.get(f"/InitializeParticipant/{first}").url.path
    wait_url = client.post(intro, follow_redirects=False).headers["location"]
    intro = client.get(f"/InitializeParticipant/{second}").url.path
    client.post(intro, follow_redirects=False)  # the last arrival completes Wait
    return first, wait_url


def test_a_bug_in_the_next_pages_code_makes_the_page_reload_and_show_it(tmp_path):
    app, client = _client(tmp_path)
    try:
        with client:
            _first, wait_url = _first_waits_second_completes(client, "buggy")
            answer = client.get(wait_url + "/status", params={"wait": "1"})
            assert answer.status_code == 200, (answer.status_code, answer.text[:200])
            assert answer.json() == {"ready": True}  # no url: the script reloads the page
            reloaded = client.get(wait_url)
            assert reloaded.status_code == 500
    finally:
        app.state.grove.db.dispose()


def test_a_poll_whose_page_was_closed_finds_its_participant_moved_on_by_the_release(tmp_path):
    """The release moved the waiting participant on (as oTree's prodserver does for a member
    whose page is gone); the closed page's poll changes nothing more."""
    app, client = _client(tmp_path)
    try:
        with client:
            first, wait_url = _first_waits_second_completes(client, "fine")
            path = wait_url + "/status"
            sent: list[dict[str, Any]] = []

            async def closed_page() -> None:
                async def receive() -> dict[str, Any]:
                    return {"type": "http.disconnect"}

                async def send(message: dict[str, Any]) -> None:
                    sent.append(message)

                scope = {
                    "type": "http",
                    "asgi": {"version": "3.0"},
                    "http_version": "1.1",
                    "method": "GET",
                    "scheme": "http",
                    "path": path,
                    "raw_path": path.encode(),
                    "query_string": b"wait=1",
                    "root_path": "",
                    "headers": [(b"host", b"testserver")],
                    "client": ("127.0.0.1", 50000),
                    "server": ("testserver", 80),
                }
                await app(scope, receive, send)

            assert client.portal is not None
            client.portal.call(closed_page)
            assert sent[0]["status"] == 200
            assert client.get(path).json() == {"ready": True}
            start = client.get(f"/InitializeParticipant/{first}", follow_redirects=False)
            assert start.headers["location"].endswith("/Next/3")
            assert client.get(wait_url).url.path.endswith("/Next/3")
    finally:
        app.state.grove.db.dispose()
