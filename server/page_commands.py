"""Page commands: tell participants' open pages to reload, show a message, or go to a URL.

``send_page_command`` is what the admin (and the admin API) calls: it publishes the command
on each participant's page channel (``server.page_channel``) inside the caller's unit of
work, so it is delivered once that commits, and not at all if it rolls back. Every
participant page (a page, a wait page, a live page) listens on its participant's channel
through the page socket (``server.web.page_routes``, ``server/static/grove-page.js``):

* ``ReloadCommand()``: the page reloads (a GET of the participant's page: they see where
  they are now);
* ``MessageCommand(text)``: the page shows ``text`` (as text, never as HTML) in a banner
  the participant can dismiss;
* ``RedirectCommand(url)``: the page goes to ``url``, an absolute ``http://`` or
  ``https://`` URL.

A command reaches one page, once: the page that delivers it takes it (``claim_page_commands``
deletes its stored row, so another tab, another worker, or the next page does not get it
again). A command sent while none of the participant's pages is open is delivered to the
next page that opens within the retention window (``Settings.live_retention_seconds``,
60 s by default); after that it is dropped.

Bad arguments raise ``InvalidPageCommand`` (an ``InvalidArguments``: HTTP 400 in the API)
when the command is made, before anything is stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import push
from server.db import Database
from server.errors import InvalidArguments
from server.models.push import PushMessage
from server.page_channel import COMMAND, page_channel

# The longest message text a page shows, and the longest URL a page is sent to (characters).
MAX_MESSAGE_CHARS = 2000
MAX_URL_CHARS = 2000
# The most participants one call addresses (a session's participants, with room to spare).
MAX_PARTICIPANTS = 10_000
URL_SCHEMES = ("http", "https")


class InvalidPageCommand(InvalidArguments):
    """A page command that cannot be sent: an empty or too long message, a URL that is not
    an absolute http(s) URL, an unknown command, or participant codes that are not a list."""


@dataclass(frozen=True)
class ReloadCommand:
    """Reload the page."""

    name = "reload"

    def payload(self) -> dict[str, Any]:
        """The command as the page's script receives it."""
        return {"command": self.name}


@dataclass(frozen=True)
class MessageCommand:
    """Show ``text`` (1 to MAX_MESSAGE_CHARS characters, not only whitespace) in a banner."""

    text: str
    name = "message"

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InvalidPageCommand("a message's text must be a string", field="text")
        if not self.text.strip():
            raise InvalidPageCommand("a message's text must not be empty", field="text")
        if len(self.text) > MAX_MESSAGE_CHARS:
            raise InvalidPageCommand(
                f"a message's text has at most {MAX_MESSAGE_CHARS} characters, not "
                f"{len(self.text)}",
                field="text",
            )

    def payload(self) -> dict[str, Any]:
        """The command as the page's script receives it."""
        return {"command": self.name, "text": self.text}


@dataclass(frozen=True)
class RedirectCommand:
    """Go to ``url``: an absolute http:// or https:// URL with a host, at most
    MAX_URL_CHARS characters, without spaces or control characters."""

    url: str
    name = "redirect"

    def __post_init__(self) -> None:
        check_redirect_url(self.url)

    def payload(self) -> dict[str, Any]:
        """The command as the page's script receives it."""
        return {"command": self.name, "url": self.url}


PageCommand = ReloadCommand | MessageCommand | RedirectCommand
COMMAND_NAMES = ("reload", "message", "redirect")


def check_redirect_url(url: object) -> None:
    """Raise InvalidPageCommand unless ``url`` is an absolute http(s) URL a page may go to
    (``javascript:``, ``data:``, relative and scheme-relative URLs are refused)."""
    if not isinstance(url, str):
        raise InvalidPageCommand("a redirect's url must be a string", field="url")
    if len(url) > MAX_URL_CHARS:
        raise InvalidPageCommand(
            f"a redirect's url has at most {MAX_URL_CHARS} characters", field="url"
        )
    if any(
        character.isspace() or ord(character) < 32 or ord(character) == 127 for character in url
    ):
        raise InvalidPageCommand(
            "a redirect's url must not contain spaces or control characters", field="url"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise InvalidPageCommand(f"{url!r} is not a valid URL", field="url") from None
    if parts.scheme.lower() not in URL_SCHEMES or not host:
        raise InvalidPageCommand(
            f"a redirect's url must be an absolute http:// or https:// URL, not {url!r}",
            field="url",
        )


def page_command(name: str, *, text: Any = None, url: Any = None) -> PageCommand:
    """The command called ``name`` ("reload", "message" with ``text``, "redirect" with
    ``url``), as an API request names it. Raises InvalidPageCommand."""
    if name == "reload":
        return ReloadCommand()
    if name == "message":
        return MessageCommand(text)
    if name == "redirect":
        return RedirectCommand(url)
    raise InvalidPageCommand(
        f"unknown page command {name!r}; the commands are {', '.join(COMMAND_NAMES)}",
        field="command",
    )


def send_page_command(db: Session, participant_codes: Sequence[str], command: PageCommand) -> None:
    """Send ``command`` to the open page of each participant in ``participant_codes``, in the
    caller's unit of work (delivered after it commits; a participant without an open page gets
    it on their next page within the retention window). Codes are not looked up: the caller
    decides who may be addressed. Raises InvalidPageCommand for a command that is not a
    PageCommand, or codes that are a single string, not strings, or more than
    MAX_PARTICIPANTS."""
    if not isinstance(command, ReloadCommand | MessageCommand | RedirectCommand):
        raise InvalidPageCommand(f"not a page command: {command!r}", field="command")
    if isinstance(participant_codes, str | bytes):
        raise InvalidPageCommand(
            "participant codes must be a list of codes, not one string", field="participant_codes"
        )
    codes = list(dict.fromkeys(participant_codes))
    if len(codes) > MAX_PARTICIPANTS:
        raise InvalidPageCommand(
            f"a page command goes to at most {MAX_PARTICIPANTS} participants at once",
            field="participant_codes",
        )
    if not all(isinstance(code, str) and code for code in codes):
        raise InvalidPageCommand(
            "each participant code must be a non-empty string", field="participant_codes"
        )
    body = json.dumps({"type": COMMAND, **command.payload()})
    push.publish_many(db, [(page_channel(code), body) for code in codes])


def claim_page_commands(
    database: Database, participant_code: str, message_ids: Sequence[int]
) -> list[int]:
    """Take stored page commands of this participant for delivery: the ids among
    ``message_ids`` that no other page took before (their rows are deleted, in one unit of
    work that touches only the push message table), so each command is shown once."""
    wanted = sorted(set(message_ids))
    if not wanted:
        return []
    channel = page_channel(participant_code)

    def work(db: Session) -> list[int]:
        taken = []
        for message_id in wanted:
            deleted = db.execute(
                sa.delete(PushMessage).where(
                    PushMessage.id == message_id, PushMessage.channel == channel
                )
            )
            if getattr(deleted, "rowcount", 0) == 1:
                taken.append(message_id)
        return taken

    return database.run(work)
