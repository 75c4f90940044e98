"""Page commands (server.page_commands): what send_page_command accepts and refuses before
anything is stored, what it stores for each participant's page channel, and that a stored
command is taken for delivery once."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from server.errors import InvalidArguments
from server.models.push import PushMessage
from server.page_commands import (
    MAX_MESSAGE_CHARS,
    InvalidPageCommand,
    MessageCommand,
    RedirectCommand,
    ReloadCommand,
    claim_page_commands,
    page_command,
    send_page_command,
)


def _stored(app) -> list[tuple[str, dict]]:
    with app.state.grove.db.read() as db:
        rows = db.scalars(sa.select(PushMessage).order_by(PushMessage.id))
        return [(row.channel, json.loads(row.body)) for row in rows]


def test_each_command_is_stored_for_each_participants_page_channel(app):
    database = app.state.grove.db
    database.run(lambda db: send_page_command(db, ["abc", "def", "abc"], ReloadCommand()))
    database.run(lambda db: send_page_command(db, ["abc"], MessageCommand("Break: 5 <b>min</b>")))
    database.run(lambda db: send_page_command(db, ("def",), RedirectCommand("https://x.org/a?b=1")))
    assert _stored(app) == [
        ("page:abc", {"type": "command", "command": "reload"}),
        ("page:def", {"type": "command", "command": "reload"}),
        ("page:abc", {"type": "command", "command": "message", "text": "Break: 5 <b>min</b>"}),
        ("page:def", {"type": "command", "command": "redirect", "url": "https://x.org/a?b=1"}),
    ]


def test_a_command_sent_in_a_unit_of_work_that_fails_is_not_stored(app):
    def work(db):
        send_page_command(db, ["abc"], ReloadCommand())
        raise RuntimeError("the caller's unit of work fails after sending")

    with pytest.raises(RuntimeError):
        app.state.grove.db.run(work)
    assert _stored(app) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org",
        "https://example.org/survey?pid=abc&x=%20",
        "HTTPS://Example.org:8443/a#b",
        "https://[::1]:8000/x",
    ],
)
def test_absolute_http_urls_are_accepted(url):
    assert RedirectCommand(url).payload() == {"command": "redirect", "url": url}


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/p/abc/finished",
        "//evil.example.org/",
        "example.org",
        "ftp://example.org/file",
        "http://",
        "http:///path",
        "https://exa mple.org",
        "https://example.org/\nSet-Cookie: x",
        "https://[::1/",
        "",
        "https://example.org/" + "a" * 2000,
        None,
        42,
    ],
)
def test_anything_but_an_absolute_http_url_is_refused(url):
    with pytest.raises(InvalidPageCommand) as refused:
        RedirectCommand(url)
    assert refused.value.field == "url"
    assert isinstance(refused.value, InvalidArguments)  # a 400 in the API's error table


@pytest.mark.parametrize("text", ["", "   \n\t", "x" * (MAX_MESSAGE_CHARS + 1), None, 5])
def test_an_empty_too_long_or_non_text_message_is_refused(text):
    with pytest.raises(InvalidPageCommand, match="message") as refused:
        MessageCommand(text)
    assert refused.value.field == "text"


def test_a_message_of_the_longest_length_is_accepted():
    assert MessageCommand("x" * MAX_MESSAGE_CHARS).text == "x" * MAX_MESSAGE_CHARS


def test_commands_by_name_as_an_api_request_gives_them():
    assert page_command("reload") == ReloadCommand()
    assert page_command("message", text="Hi") == MessageCommand("Hi")
    assert page_command("redirect", url="https://a.org") == RedirectCommand("https://a.org")
    with pytest.raises(InvalidPageCommand, match="unknown page command 'explode'"):
        page_command("explode")
    with pytest.raises(InvalidPageCommand):
        page_command("redirect", url="javascript:void(0)")
    with pytest.raises(InvalidPageCommand):
        page_command("message")


@pytest.mark.parametrize(
    ("codes", "command", "problem"),
    [
        ("abc", ReloadCommand(), "not one string"),
        (["abc", ""], ReloadCommand(), "non-empty string"),
        (["abc", 7], ReloadCommand(), "non-empty string"),
        (["abc"], "reload", "not a page command"),
        (["abc"], {"command": "reload"}, "not a page command"),
    ],
)
def test_send_refuses_bad_codes_and_commands_storing_nothing(app, codes, command, problem):
    with pytest.raises(InvalidPageCommand, match=problem):
        app.state.grove.db.run(lambda db: send_page_command(db, codes, command))
    assert _stored(app) == []


def test_a_stored_command_is_taken_once(app):
    database = app.state.grove.db
    database.run(lambda db: send_page_command(db, ["abc", "def"], ReloadCommand()))
    with database.read() as db:
        ids = {row.channel: row.id for row in db.scalars(sa.select(PushMessage))}
    assert claim_page_commands(database, "abc", [ids["page:abc"], ids["page:def"]]) == [
        ids["page:abc"]
    ]  # another participant's command is not this participant's to take
    assert claim_page_commands(database, "abc", [ids["page:abc"]]) == []
    assert claim_page_commands(database, "def", [ids["page:def"]]) == [ids["page:def"]]
    assert _stored(app) == []


# --- the page socket (/page/<code>) -------------------------------------------------------


def _participants(client, config: str = "survey", count: int = 2) -> list[str]:
    code = client.post(
        "/api/sessions", json={"session_config_name": config, "num_participants": count}
    ).json()["code"]
    people = client.get(f"/api/sessions/{code}").json()["participants"]
    return [p["code"] for p in sorted(people, key=lambda p: p["id_in_session"])]


def _send(app, codes, command) -> None:
    app.state.grove.db.run(lambda db: send_page_command(db, codes, command))


def test_every_participant_page_opens_the_page_socket(client):
    first, _second = _participants(client, "trust")
    page = client.get(f"/InitializeParticipant/{first}")
    assert f'data-url="/page/{first}"' in page.text
    assert 'src="/grove_static/grove-page.js"' in page.text
    _first, second = _participants(client, "trust")
    wait_page = client.get(f"/InitializeParticipant/{second}")
    assert "grove-wait" in wait_page.text
    assert f'data-url="/page/{second}"' in wait_page.text


def test_a_command_sent_before_the_page_opens_is_delivered_once(app, client):
    first, second = _participants(client)
    _send(app, [first], MessageCommand("sent before"))
    _send(app, [second], ReloadCommand())
    with client.websocket_connect(f"/page/{first}") as page:
        assert json.loads(page.receive_text()) == {
            "type": "command",
            "command": "message",
            "text": "sent before",
        }
        _send(app, [first], RedirectCommand("https://example.org/next"))
        assert json.loads(page.receive_text())["url"] == "https://example.org/next"
    with client.websocket_connect(f"/page/{first}") as again:
        # The next page gets only what came after: the first two were taken.
        _send(app, [first], ReloadCommand())
        assert json.loads(again.receive_text()) == {"type": "command", "command": "reload"}
    assert [channel for channel, _body in _stored(app)] == [f"page:{second}"]


def test_a_page_gets_only_its_participants_commands(app, client):
    first, second = _participants(client)
    with (
        client.websocket_connect(f"/page/{first}") as mine,
        client.websocket_connect(f"/page/{second}") as theirs,
    ):
        _send(app, [second], MessageCommand("for the second"))
        _send(app, [first], MessageCommand("for the first"))
        assert json.loads(mine.receive_text())["text"] == "for the first"
        assert json.loads(theirs.receive_text())["text"] == "for the second"


def test_the_page_socket_of_an_unknown_participant_closes_with_4404(client):
    from starlette.websockets import WebSocketDisconnect

    with (
        client.websocket_connect("/page/nosuchcode") as page,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        page.receive_text()
    assert closed.value.code == 4404
