"""Each participant's page channel: the push channel (``server.push``) that their open pages
listen to, whichever page it is (a page, a wait page, a live page).

The channel is ``page:<participant code>``; a message is a JSON object with a ``type``:

* ``{"type": "check"}``: something a waiting page of this participant waits for may have
  happened (a wait page of their group or subsession completed, or they were moved on by
  the admin): ask the status again. It says nothing else, about the group or anyone in it:
  the status request reads the truth from the database. Published by ``server.flow`` in the
  unit of work that completes the wait page, so it is delivered after that commit. A
  waiting status request (``.../status?wait=1``, ``server.web.wait_status``) wakes on it.
* ``{"type": "command", ...}``: a page command for the participant's open page (reload,
  show a message, go to a URL): ``server.page_commands``, delivered to one page once.

Messages are kept for the retention window (``Settings.live_retention_seconds``), so a page
command sent while no page was open reaches the next page that opens within it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import push
from server.models.core import Participant

CHECK = "check"
COMMAND = "command"
_CHECK_BODY = json.dumps({"type": CHECK})


def page_channel(participant_code: str) -> str:
    """The push channel of one participant's open pages."""
    return f"page:{participant_code}"


def publish_check(db: Session, participant_codes: Iterable[str]) -> None:
    """Tell these participants' waiting pages to ask their status again, once the caller's
    unit of work commits."""
    for code in dict.fromkeys(participant_codes):
        push.publish(db, page_channel(code), _CHECK_BODY)


def publish_check_by_id(db: Session, participant_ids: Iterable[int]) -> None:
    """``publish_check`` for participants given by their database ids (one query)."""
    ids = sorted(set(participant_ids))
    if not ids:
        return
    codes = db.scalars(sa.select(Participant.code).where(Participant.id.in_(ids)))
    publish_check(db, list(codes))


def message_type(body: str) -> str | None:
    """The ``type`` of a page channel message's JSON body (None if it has none)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None
