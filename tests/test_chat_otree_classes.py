"""``{{ chat }}`` carries oTree's CSS class names, which oTree's docs tell experimenters to
style or script ("you will see a bunch of classes starting with ``otree-chat__``. You can use
CSS or JS to change the appearance or behavior of these elements", multiplayer_chat.rst).

oTree 6.0.15's box (otree/templates/otree/tags/chat.html, read from a devserver's page): a
``div.otree-chat`` holding ``div.otree-chat__messages``, the ``.otree-chat__input`` and a
``button.otree-chat__btn-send`` ("Send"); each message is a ``div.otree-chat__msg`` with a
``span.otree-chat__nickname`` and a ``span.otree-chat__body``. A participant sees their own
messages under their nickname and "(Me)" (oTree's ``nickname_i_see_for_myself``: "Buyer (Me)").
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests import databases
from tests.conftest import create_demo_session
from tests.live_server import live_server


def _chat_box(html: str) -> str:
    found = re.search(r'<div class="otree-chat">.*?</div></div>', html, re.S)
    assert found, html
    return found.group(0)


def test_the_chat_box_has_otrees_class_names(client):
    _code, links = create_demo_session(client, "prisoner")
    page = client.get(links[0], follow_redirects=True)
    box = _chat_box(page.text)
    assert 'class="grove-chat"' in box
    assert re.search(r'<div class="[^"]*\botree-chat__messages\b', box)
    assert re.search(r'<input class="[^"]*\botree-chat__input\b', box)
    assert re.search(r'<button type="button" class="[^"]*\botree-chat__btn-send\b[^"]*">Send<', box)


@pytest.mark.slow
@pytest.mark.browser
def test_the_send_button_sends_and_messages_carry_otrees_class_names(browser, tmp_path):
    with (
        live_server(databases.database_url(tmp_path, "chat"), workers=1) as base,
        httpx.Client(base_url=base) as client,
    ):
        code = client.post(
            "/api/sessions/", json={"session_config_name": "prisoner", "num_participants": 2}
        ).json()["code"]
        people = [p["code"] for p in client.get(f"/api/sessions/{code}").json()["participants"]]
        writer, reader = [browser.new_page() for _ in people]
        for page, person in zip((writer, reader), people, strict=True):
            page.goto(f"{base}/InitializeParticipant/{person}")
            page.wait_for_selector(".otree-chat__input")
        writer.fill(".otree-chat__input", "hello partner")
        writer.click(".otree-chat__btn-send")
        message = reader.wait_for_selector(".otree-chat__msg", timeout=10_000)
        nickname = message.query_selector(".otree-chat__nickname").inner_text()
        assert re.fullmatch(r"Participant [12]", nickname)  # the writer's default nickname
        assert message.query_selector(".otree-chat__body").inner_text() == "hello partner"
        assert writer.input_value(".otree-chat__input") == ""
        mine = writer.wait_for_selector(".otree-chat__msg", timeout=10_000)
        assert mine.query_selector(".otree-chat__nickname").inner_text() == f"{nickname} (Me)"


def test_a_readers_own_messages_are_marked_as_theirs(client):
    _code, links = create_demo_session(client, "prisoner")
    urls = [str(client.get(link, follow_redirects=True).url) for link in links]
    pages = [client.get(url).text for url in urls]
    tokens = [re.search(r'data-token="([^"]+)"', page).group(1) for page in pages]
    chats = [url.split("/prisoner/")[0] + "/chat" for url in urls]
    sent = client.post(chats[0], json={"token": tokens[0], "body": "hello"})
    assert sent.json()["ok"] is True
    seen = [
        client.get(chat, params={"token": token}).json()["messages"]
        for chat, token in zip(chats, tokens, strict=True)
    ]
    partner = next(index for index in range(1, 4) if seen[index])
    assert [m["mine"] for m in seen[0]] == [True]
    assert [m["mine"] for m in seen[partner]] == [False]
    assert 'data-me="(Me)"' in pages[0]
