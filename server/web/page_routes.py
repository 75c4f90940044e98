"""The page socket: ``/page/{code}``, a WebSocket every participant page opens (a page, a wait
page, a live page) to receive page commands (``server.page_commands``) for its participant.

Authenticated as the participant's pages are, by the participant code in the URL. The page's
script (``server/static/grove-page.js``) sends nothing; the server sends one JSON object per
command, ``{"type": "command", "command": "reload" | "message" | "redirect", ...}``:

* on connecting, the participant's commands stored within the retention window that no page
  has taken yet (sent while no page of theirs was open), oldest first;
* then each command as it arrives on the participant's page channel, from any worker or host.

Each command is taken before it is sent (``claim_page_commands``), so it reaches one page,
once. The channel's ``check`` messages are for waiting status requests and are not sent. A
participant that does not exist closes the socket with code 4404 (the page stops trying).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from server import live_pages
from server.errors import DatabaseBusy, DatabaseUnavailable
from server.http.context import Grove
from server.page_channel import COMMAND, page_channel, parse_message
from server.page_commands import claim_page_commands
from server.push import Pushed
from server.push_hub import PushHub, Subscription

CLOSE_NOT_FOUND = 4404
# RFC 6455's registry: "Try Again Later". The database could not be read (busy, or a lost
# connection that a read does not survive): the page's script connects again in a moment.
CLOSE_TRY_AGAIN_LATER = 1013
# After a command could not be taken (the database busy), its stored commands are read again.
BUSY_RETRY_SECONDS = 1.0

logger = logging.getLogger("grove.page")


class _PageSocket:
    """One open page's socket: takes and sends the commands for its participant."""

    def __init__(self, websocket: WebSocket, grove: Grove, hub: PushHub, code: str) -> None:
        self.websocket = websocket
        self.grove = grove
        self.hub = hub
        self.code = code
        self.channel = page_channel(code)

    async def send_commands(self, messages: list[Pushed]) -> None:
        """Take the commands among ``messages`` that no page took yet; send them in order."""
        commands = [m for m in messages if parse_message(m.body).get("type") == COMMAND]
        if not commands:
            return
        taken = set(
            await run_in_threadpool(
                claim_page_commands, self.grove.db, self.code, [m.id for m in commands]
            )
        )
        for message in commands:
            if message.id in taken:
                await self.websocket.send_text(message.body)

    async def send_stored(self) -> None:
        """The commands stored within the retention window that no page has taken."""
        stored = await run_in_threadpool(self.hub.recent, self.channel, 0.0)
        await self.send_commands(stored)

    async def forward(self, subscription: Subscription) -> None:
        """Send what is stored, then each command as it comes. A command that could not be
        taken (the database was busy) stays stored: what is stored is read again
        BUSY_RETRY_SECONDS later."""
        message: Pushed | None = None
        while True:
            try:
                if message is None:  # at the start, or the hub may have missed messages
                    await self.send_stored()
                else:
                    await self.send_commands([message])
            except (DatabaseBusy, DatabaseUnavailable):
                logger.warning("page commands for %s wait: the database is busy", self.code)
                await asyncio.sleep(BUSY_RETRY_SECONDS)
                message = None
                continue
            message = await subscription.queue.get()


async def accept_participant(websocket: WebSocket, grove: Grove, code: str) -> bool:
    """Accept a participant page's socket; False when it was closed instead: with
    CLOSE_NOT_FOUND (the page stops trying) when there is no such participant, with
    CLOSE_TRY_AGAIN_LATER when the database could not tell."""
    await websocket.accept()
    try:
        exists = await run_in_threadpool(live_pages.participant_exists, grove.db, code)
    except (DatabaseBusy, DatabaseUnavailable) as error:
        await close_to_be_tried_again(websocket, error)
        return False
    if exists:
        return True
    await websocket.close(CLOSE_NOT_FOUND)
    return False


async def close_to_be_tried_again(websocket: WebSocket, error: Exception) -> None:
    """Close a participant page's socket whose database read failed (``error``, a
    DatabaseBusy or DatabaseUnavailable, logged by the database): the page connects again."""
    logger.info("a page socket closed to be opened again: %s", error)
    with contextlib.suppress(RuntimeError):  # already closed by the other side
        await websocket.close(CLOSE_TRY_AGAIN_LATER, "The database is unavailable; try again.")


@contextlib.asynccontextmanager
async def running(work: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``work`` as a task for the block (a socket's forwarder); cancelled and awaited
    when the block ends, however it ends."""
    task = asyncio.create_task(work)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def page_socket(websocket: WebSocket) -> None:
    """A participant page's connection: commands for the participant until the page goes."""
    grove: Grove = websocket.app.state.grove
    code = websocket.path_params["code"]
    if not await accept_participant(websocket, grove, code):
        return
    hub: PushHub = grove.push_hub
    page = _PageSocket(websocket, grove, hub, code)
    async with hub.subscribed(page.channel) as subscription, running(page.forward(subscription)):
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                frame = await websocket.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                # The page's script sends nothing; anything it might send is ignored.


routes = [WebSocketRoute("/page/{code:str}", page_socket)]
