"""A chat box without a nickname names its writer as oTree 6.0.15 does: "Participant 2".

Measured on oTree 6.0.15's devserver with its sample prisoner's dilemma (``{{ chat }}``, no
arguments): the box shows "Participant 1" for the first player of a group and
"Participant 1 (Me)" to that player, and the chat export's ``nickname`` column holds
"Participant 1"; its German catalogue says "Teilnehmer 1". (oTree's chat docs say "Player 1",
but no oTree since 3 writes that.) The message is sent and read through the page's chat
endpoint and the export, as a participant's browser and the experimenter meet them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from tests.conftest import create_demo_session


def _client(settings: Settings, language: str) -> Iterator[TestClient]:
    app = create_app(settings.with_changes(language_code=language))
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


@pytest.fixture
def english(settings: Settings) -> Iterator[TestClient]:
    yield from _client(settings, "en")


@pytest.fixture
def german(settings: Settings) -> Iterator[TestClient]:
    yield from _client(settings, "de")


def _chat_token(html: str) -> str:
    found = re.search(r'class="grove-chat" data-url="[^"]+" data-token="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _send_and_read(client: TestClient) -> tuple[str, list[dict[str, str]]]:
    """Player 1 of the first group writes; return the nickname its partner's box shows and
    the chat export's rows."""
    code, links = create_demo_session(client, "prisoner")
    urls = [str(client.get(link).url).replace("http://testserver", "") for link in links[:2]]
    tokens = [_chat_token(client.get(url).text) for url in urls]
    chat_urls = [url.split("/prisoner/")[0] + "/chat" for url in urls]
    sent = client.post(chat_urls[0], json={"token": tokens[0], "body": "hello"})
    assert sent.json()["ok"] is True, sent.text
    seen = client.get(chat_urls[1], params={"token": tokens[1]}).json()["messages"]
    assert [m["body"] for m in seen] == ["hello"]
    exported = client.get("/api/export/chat", params={"session": code, "format": "csv"})
    assert exported.status_code == 200, exported.text
    return seen[0]["nickname"], list(csv.DictReader(io.StringIO(exported.text)))


def test_default_chat_nickname_is_participant_and_id_in_group(english: TestClient) -> None:
    nickname, rows = _send_and_read(english)
    assert nickname == "Participant 1"
    assert [row["nickname"] for row in rows] == ["Participant 1"]


def test_default_chat_nickname_in_german(german: TestClient) -> None:
    nickname, rows = _send_and_read(german)
    assert nickname == "Teilnehmer 1"
    assert [row["nickname"] for row in rows] == ["Teilnehmer 1"]
