"""Each room's push channel (``server.push``): what its waiting pages listen to.

The channel is ``room:<room name>``; its one message, ``{"type": "check"}``, says that the
room's session changed: a session was created in the room, or the room was closed (by the
admin, or by deleting its current session). It carries nothing else: a waiting page's
status request reads the room's state from the database. Published in the unit of work that
makes the change (``sessions.create_session``, ``rooms.close_room``,
``session_admin.delete_session``), so it is delivered after that commit, to every worker's
waiting requests (``server.web.room_routes``).
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from server import push

_CHECK_BODY = json.dumps({"type": "check"})


def room_channel(room_name: str) -> str:
    """The push channel of one room's waiting pages."""
    return f"room:{room_name}"


def publish_room_change(db: Session, room_name: str) -> None:
    """Tell the room's waiting pages to ask their status again, once the caller's unit of
    work commits."""
    push.publish(db, room_channel(room_name), _CHECK_BODY)
