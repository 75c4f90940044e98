"""Each participant's page channel: the push channel (``server.push``) that their open pages
listen to, whichever page it is (a page, a wait page, a live page).

The channel is ``page:<participant code>``; a message is a JSON object with a ``type``:

* ``{"type": "check", "page": n}``: the participant may move on from their wait page
  ``n`` (its index in their page sequence): the wait page completed for their group or
  subsession, or the admin moved them past it. It says nothing else, about the group or
  anyone in it. Published by ``server.flow`` in the unit of work that completes the wait
  page (or moves them), so it is delivered after that commit, and it stays true: a waiting
  status request for page ``n`` (``.../status?wait=1``, ``server.web.wait_watch``) answers
  at once; for any other page it reads its status from the database again.
* ``{"type": "check", "page": n, "url": u}``: the same, when the unit of work that completed
  the wait page also moved the participant on (``flow.arrive_at_wait_page``): ``u`` is the
  page they are now on, which the waiting status request answers without a database read.
* ``{"type": "command", ...}``: a page command for the participant's open page (reload,
  show a message, go to a URL): ``server.page_commands``, delivered to one page once.

Messages are kept for the retention window (``Settings.live_retention_seconds``), so a page
command sent while no page was open reaches the next page that opens within it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from server import push

CHECK = "check"
COMMAND = "command"


def page_channel(participant_code: str) -> str:
    """The push channel of one participant's open pages."""
    return f"page:{participant_code}"


def publish_check(db: Session, participant_codes: Iterable[str], page_index: int) -> None:
    """Tell these participants' pages waiting on wait page ``page_index`` that they may move
    on, once the caller's unit of work commits."""
    body = json.dumps({"type": CHECK, "page": page_index})
    push.publish_many(db, [(page_channel(code), body) for code in dict.fromkeys(participant_codes)])


def publish_released(
    db: Session, moved: Iterable[tuple[str, str]], others: Iterable[str], page_index: int
) -> None:
    """Tell the pages waiting on wait page ``page_index`` of these participants that they may
    move on, once the caller's unit of work commits: ``moved`` ((participant code, URL)
    pairs) were moved on to that URL, ``others`` (codes) were not (a plain ``check``). One
    INSERT."""
    check = json.dumps({"type": CHECK, "page": page_index})
    push.publish_many(
        db,
        [
            *(
                (page_channel(code), json.dumps({"type": CHECK, "page": page_index, "url": url}))
                for code, url in moved
            ),
            *((page_channel(code), check) for code in dict.fromkeys(others)),
        ],
    )


def moved_to_url(body: str, page_index: int) -> str | None:
    """The URL a ``check`` of wait page ``page_index`` says the participant was moved to, or
    None (another message, another page, or a check without a URL)."""
    data = parse_message(body)
    url = data.get("url")
    if released_page(body) != page_index or not isinstance(url, str):
        return None
    return url


def parse_message(body: str) -> dict[str, Any]:
    """A page channel message's JSON object ({} for anything else)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def released_page(body: str) -> int | None:
    """The wait page index a ``check`` message releases (None for any other message)."""
    data = parse_message(body)
    page = data.get("page")
    if data.get("type") != CHECK or not isinstance(page, int) or isinstance(page, bool):
        return None
    return page
