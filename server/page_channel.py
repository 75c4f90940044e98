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
* ``{"type": "command", ...}``: a page command for the participant's open page (reload,
  show a message, go to a URL): ``server.page_commands``, delivered to one page once.

Messages are kept for the retention window (``Settings.live_retention_seconds``), so a page
command sent while no page was open reaches the next page that opens within it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import push
from server.models.core import Participant

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


def publish_check_by_id(db: Session, participant_ids: Iterable[int], page_index: int) -> None:
    """``publish_check`` for participants given by their database ids (one query)."""
    ids = sorted(set(participant_ids))
    if not ids:
        return
    codes = db.scalars(
        sa.select(Participant.code).where(Participant.id.in_(ids)).order_by(Participant.id)
    )
    publish_check(db, list(codes), page_index)


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


def publish_check_to_players(
    db: Session, player_cls: Any, by_subsession: bool, scope_id: int, page_index: int
) -> None:
    """``publish_check`` for every participant with a player of ``player_cls`` in the
    subsession (``by_subsession``) or group ``scope_id``: one statement, nobody loaded."""
    push.publish_selected(
        db, _checks_to_players(player_cls, by_subsession, page_index), {"scope_id": scope_id}
    )


@functools.lru_cache(maxsize=256)
def _checks_to_players(player_cls: Any, by_subsession: bool, page_index: int) -> sa.Select[Any]:
    """(channel, body) of the ``check`` of wait page ``page_index`` for each player of the
    scope ``:scope_id``, built once per page (so is the statement around it)."""
    column = player_cls.subsession_id if by_subsession else player_cls.group_id
    channel = sa.literal(page_channel(""), sa.String) + Participant.code
    body: Any = sa.literal(json.dumps({"type": CHECK, "page": page_index}), sa.String)
    return (
        sa.select(channel, body)
        .select_from(player_cls)
        .join(Participant, Participant.id == player_cls.participant_id)
        .where(column == sa.bindparam("scope_id"))
        .order_by(Participant.id)
    )
