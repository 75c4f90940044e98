"""Chat between players: channels, posting, reading and exporting. No HTTP here.

A chat box's channel and nickname are signed into a token when the page renders, so a
participant can only write to (and read) the channels their pages gave them.

A box asks for the messages after the largest id it has shown (``messages_after``), so within
a channel ids must commit in the order they are taken. SQLite serializes writers; PostgreSQL
takes an id at the INSERT, and two messages' transactions may commit the other way round (a
slow COMMIT): a box that polled between them would never show the earlier one. On
PostgreSQL a message's unit of work therefore takes a lock of its session and channel
(``pg_advisory_xact_lock``, LOCK ORDER 4, after its participant) before the INSERT, held until
it commits: the next message of the channel takes its id after that.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from server.csv_cells import spreadsheet_row
from server.db import Database
from server.errors import InvalidArguments
from server.i18n import gettext
from server.models.chat import ChatMessage
from server.models.core import Participant
from server.sessions import get_participant, get_session
from server.storable_text import replace_unstorable, unstorable_character

MAX_MESSAGE_LENGTH = 1000
# The width of the channel and nickname columns (server/models/chat.py).
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class ChatSeat:
    """Where a participant chats: channel and the name others see."""

    participant_code: str
    channel: str
    nickname: str


def chat_seat(participant_code: str, channel: str, nickname: str) -> ChatSeat:
    """The seat a ``{{ chat }}`` box gives, with values its messages can be stored with.

    A nickname may come from what a participant typed (``nickname=player.name``), so one
    longer than the column is shortened and a character no database holds is replaced. A
    channel names who reads whose messages, so one that cannot be stored is an error in the
    app (ValueError) rather than silently merged with another.
    """
    if len(channel) > MAX_NAME_LENGTH or unstorable_character(channel):
        raise ValueError(
            f"a chat channel must be at most {MAX_NAME_LENGTH} characters with no NUL"
            f" character, not {channel[:40]!r}..."
        )
    nickname = replace_unstorable(nickname)[:MAX_NAME_LENGTH]
    return ChatSeat(participant_code, channel, nickname)


def default_channel(app_name: str, player: Any) -> str:
    """oTree's default: one channel per group and round."""
    return f"{app_name}-{player.round_number}-{player.group.id_in_subsession}"


def default_nickname(player: Any) -> str:
    """oTree's default: the player's id in the group ("Participant 2"; "Teilnehmer 2" in German).

    What oTree 6.0.15 (and every oTree since 3) shows and exports; its chat docs say "Player 2".
    """
    return gettext("Participant {id_in_group}").format(id_in_group=player.id_in_group)


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="grove-chat")


def seat_token(secret_key: str, seat: ChatSeat) -> str:
    """A signed token for a chat box."""
    return _serializer(secret_key).dumps([seat.participant_code, seat.channel, seat.nickname])


def seat_from_token(secret_key: str, token: str, participant_code: str) -> ChatSeat:
    """The seat a token grants; InvalidArguments if forged or for someone else."""
    try:
        code, channel, nickname = _serializer(secret_key).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise InvalidArguments("invalid chat token", field="token") from None
    if code != participant_code:
        raise InvalidArguments("this chat token belongs to another participant", field="token")
    return ChatSeat(code, channel, nickname)


def post_message(db: Session, participant: Participant, seat: ChatSeat, body: Any) -> ChatMessage:
    """Store a message; InvalidArguments for an empty or too long one, or one with a NUL."""
    if not isinstance(body, str) or not body.strip():
        raise InvalidArguments("the message is empty", field="body")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise InvalidArguments(
            f"messages are at most {MAX_MESSAGE_LENGTH} characters", field="body"
        )
    problem = unstorable_character(body)
    if problem is not None:
        raise InvalidArguments(f"a message cannot contain {problem}", field="body")
    _lock_channel(db, participant.session_id, seat.channel)
    message = ChatMessage(
        session_id=participant.session_id,
        channel=seat.channel,
        participant_id=participant.id,
        nickname=seat.nickname,
        body=body.strip(),
    )
    db.add(message)
    db.flush()
    return message


# PostgreSQL's two-key advisory lock (its key space is apart from one-key locks such as the
# schema's): the session's id, and the channel's name hashed.
_LOCK_CHANNEL = sa.select(
    sa.func.pg_advisory_xact_lock(
        sa.bindparam("session_id", type_=sa.Integer),
        sa.func.hashtext(sa.bindparam("channel", type_=sa.Text)),
    )
)


def _lock_channel(db: Session, session_id: int, channel: str) -> None:
    """PostgreSQL: hold the channel's lock until this unit of work ends, so that its message
    takes an id only after the channel's previous message committed (module docstring); a
    wait longer than the lock timeout fails as any lock's (DatabaseBusy). Nothing on SQLite,
    whose write transaction holds everything already."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(_LOCK_CHANNEL, {"session_id": session_id, "channel": channel})


def messages_after(
    db: Session, session_id: int, channel: str, after_id: int, reader_id: int | None = None
) -> list[dict]:
    """Messages of a channel newer than ``after_id``, oldest first; ``mine`` says whether the
    reader (participant id ``reader_id``) wrote it, for oTree's "Ann (Me)"."""
    rows = db.scalars(
        sa.select(ChatMessage)
        .where(
            ChatMessage.session_id == session_id,
            ChatMessage.channel == channel,
            ChatMessage.id > after_id,
        )
        .order_by(ChatMessage.id)
        .limit(200)
    )
    return [
        {
            "id": m.id,
            "nickname": m.nickname,
            "body": m.body,
            "time": m.created_at.isoformat() if m.created_at else None,
            "mine": m.participant_id == reader_id,
        }
        for m in rows
    ]


def export_chat_csv(db: Session, session_id: int) -> str:
    """Every chat message of a session as CSV (for the data export); text a spreadsheet would
    run as a formula gets a leading apostrophe (``server/csv_cells.py``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["session_id", "channel", "participant_code", "nickname", "body", "time"])
    rows = db.execute(
        sa.select(ChatMessage, Participant.code)
        .join(Participant, Participant.id == ChatMessage.participant_id)
        .where(ChatMessage.session_id == session_id)
        .order_by(ChatMessage.id)
    )
    for message, code in rows:
        writer.writerow(
            spreadsheet_row(
                [
                    session_id,
                    message.channel,
                    code,
                    message.nickname,
                    message.body,
                    message.created_at.isoformat() if message.created_at else "",
                ]
            )
        )
    return buffer.getvalue()


# --- use cases: each its own unit of work ------------------------------------------------


def read_messages(
    database: Database, participant_code: str, seat: ChatSeat, after_id: int
) -> list[dict]:
    """The seat's channel's messages after ``after_id``. Raises ParticipantNotFound."""
    with database.read() as db:
        participant = get_participant(db, participant_code)
        return messages_after(db, participant.session_id, seat.channel, after_id, participant.id)


def send_message(database: Database, participant_code: str, seat: ChatSeat, body: Any) -> int:
    """Store one message from this seat; its id. Raises ParticipantNotFound, InvalidArguments."""

    def work(db: Session) -> int:
        # Locked (LOCK ORDER 3): a session being deleted holds its participants until it
        # commits, after which this finds none (404) instead of inserting a message whose
        # participant is gone (a foreign key violation, a 500 on PostgreSQL).
        participant = get_participant(db, participant_code, for_update=True)
        return post_message(db, participant, seat, body).id

    return database.run(work)


def session_chat_csv(database: Database, session_code: str) -> str:
    """Every message of the session as CSV (the admin's download). Raises SessionNotFound."""
    with database.read() as db:
        session = get_session(db, session_code)
        return export_chat_csv(db, session.id)
