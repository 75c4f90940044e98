"""The WebSocket of a live page: ``/live/{code}/{index}``.

Authenticated as the participant's pages are, by the participant code in the URL. The page's
script (``server/static/grove-live.js``) speaks JSON:

* ``{"type": "hello", "since": t, "seen": [ids]}`` first, on every (re)connection: the
  server sends the page's stored messages from ``t`` (when the page was rendered, server
  time) within the retention window, except those it has already received (``seen``);
* ``{"type": "send", "id": key, "data": data}`` for each ``liveSend(data)``: the live method
  runs (``server.live_pages.send_live_message``), and the server answers
  ``{"type": "ack", "id": key, "ok": true}`` (or ``"ok": false`` with ``"error"``, and
  ``"retry": true`` when the database was busy or unavailable and nothing ran: the page sends
  it again; an async live method's later step that the database could not store is a failed
  step, without ``retry``: its first unit of work, receipt included, had committed); a
  message sent again with the same key (after a reconnect) is acknowledged, not
  run again;
* from the server, ``{"type": "message", "id": n, "data": data}`` for each answer addressed
  to this page (``liveRecv(data)``; ids tell copies apart).

A participant that does not exist closes the socket with code 4404 (the page stops trying);
a database that cannot be read (busy, or a lost connection) closes it with 1013, and the page
connects again, says hello anew and sends what was not acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from server import live_pages
from server.errors import DatabaseBusy, DatabaseUnavailable, ParticipantNotFound
from server.http.context import Grove
from server.push import Pushed
from server.push_hub import PushHub, Subscription
from server.web.page_routes import (
    CLOSE_NOT_FOUND,
    accept_participant,
    close_to_be_tried_again,
    running,
)
from server.web.participant_routes import parse_page_index

logger = logging.getLogger("grove.live")

CLOSE_BAD_MESSAGE = 4400
# Before the page's own time, so that a message committed while the page was rendering is
# not missed (a reload may show the last second's messages again).
RENDER_SLACK_SECONDS = 1.0


def push_hub(grove: Grove) -> PushHub:
    """The worker's push hub (one per application)."""
    hub = grove.push_hub
    assert hub is not None
    return hub


class _LivePage:
    """One open live page: its subscription and what it has been sent."""

    def __init__(self, websocket: WebSocket, grove: Grove, code: str, index: int) -> None:
        self.websocket = websocket
        self.grove = grove
        self.code = code
        self.index = index
        self.channel = live_pages.live_channel(code, index)
        self.sent: set[int] = set()
        self.since: float | None = None
        self.send_lock = asyncio.Lock()
        # The group (or subsession) the last message locked: the next locks it at once.
        self.scope: tuple[Any, int] | None = None

    async def send_text(self, text: str) -> None:
        async with self.send_lock:
            await self.websocket.send_text(text)

    async def deliver(self, message: Pushed) -> None:
        if message.id in self.sent:
            return
        self.sent.add(message.id)
        await self.send_text(f'{{"type":"message","id":{message.id},"data":{message.body}}}')

    async def replay(self, seen: set[int]) -> None:
        """Send the stored messages from ``since`` on that the page has not received."""
        if self.since is None:
            return
        self.sent |= seen
        stored = await run_in_threadpool(
            push_hub(self.grove).recent, self.channel, self.since - RENDER_SLACK_SECONDS
        )
        for message in stored:
            await self.deliver(message)

    async def forward(self, subscription: Subscription, replayed: asyncio.Event) -> None:
        """Deliver the channel's messages once the hello's replay is done. A replay that
        cannot read closes the socket (the page connects again and replays), so that the page
        is never left open without its messages."""
        await replayed.wait()
        while True:
            message = await subscription.queue.get()
            if message is None:  # the listener reconnected: read what it may have missed
                try:
                    await self.replay(set())
                except (DatabaseBusy, DatabaseUnavailable) as error:
                    async with self.send_lock:
                        await close_to_be_tried_again(self.websocket, error)
                    return
            else:
                await self.deliver(message)

    async def run_message(self, message: dict[str, Any]) -> bool:
        """Run one ``send``; False when the socket had to be closed instead."""
        key = message.get("id")
        if not isinstance(key, str) or not key or len(key) > live_pages.MAX_MESSAGE_KEY:
            await self.websocket.close(CLOSE_BAD_MESSAGE)
            return False
        grove = self.grove
        reply: dict[str, Any] = {"type": "ack", "id": key, "ok": True}
        try:
            result = await run_in_threadpool(
                live_pages.send_live_message,
                grove.db,
                grove.project,
                self.code,
                self.index,
                message.get("data"),
                key,
                self.scope,
                True,  # steps_later: an async method's awaits hold no thread
            )
            if result.later is not None:
                try:
                    result = await result.later.finish()
                except (DatabaseBusy, DatabaseUnavailable) as error:
                    # The message's first unit of work committed (its receipt among it): sent
                    # again, it would be a duplicate, acknowledged as run. A step the database
                    # could not store fails as a step that raises.
                    raise _StepNotStored(str(error)) from error
        except ParticipantNotFound:
            await self.websocket.close(CLOSE_NOT_FOUND)
            return False
        except (DatabaseBusy, DatabaseUnavailable) as exc:
            # Not the live method's fault, and nothing was stored: the page sends it again.
            reply.update(ok=False, retry=True, error=str(exc))
        except Exception as exc:
            # As oTree: the page is told that it failed, the server log says why.
            logger.exception("live_method of participant %s, page %d failed", self.code, self.index)
            name = type(exc.__cause__ if isinstance(exc, _StepNotStored) else exc).__name__
            reply.update(ok=False, error=f"Error in live_method: {name}")
        else:
            self.scope = result.scope
            if result.status == "not_on_page":
                reply.update(ok=False, error="The participant is no longer on this page.")
        try:
            await self.send_text(json.dumps(reply))
        except (WebSocketDisconnect, WebSocketDisconnected):
            # The page went while its message ran (an async live method awaiting a model's
            # answer for seconds): what the method stored stays, nobody is left to tell.
            return False
        return True


class _StepNotStored(Exception):
    """A step of an async live method, after its first unit of work committed, that the
    database could not store (DatabaseBusy, DatabaseUnavailable): answered as a failed step,
    never with ``retry``."""


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


async def live_socket(websocket: WebSocket) -> None:
    """A live page's connection: messages in both directions until the page goes."""
    grove: Grove = websocket.app.state.grove
    code = websocket.path_params["code"]
    index = parse_page_index(websocket.path_params["index"])
    if index is None:
        await websocket.accept()
        await websocket.close(CLOSE_NOT_FOUND)
        return
    if not await accept_participant(websocket, grove, code):
        return
    page = _LivePage(websocket, grove, code, index)
    hub = push_hub(grove)
    replayed = asyncio.Event()
    async with (
        hub.subscribed(page.channel) as subscription,
        running(page.forward(subscription, replayed)),
    ):
        await _converse(websocket, grove, page, replayed)


async def _converse(
    websocket: WebSocket, grove: Grove, page: _LivePage, replayed: asyncio.Event
) -> None:
    """Read the page's frames and answer them until it goes or sends something wrong."""
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                return
            raw = frame.get("text")
            if raw is None:  # a binary frame: the page's script sends only text
                await websocket.close(CLOSE_BAD_MESSAGE)
                return
            if len(raw) > grove.settings.max_body_bytes:
                await websocket.close(1009)
                return
            try:
                # NaN and Infinity are not JSON: JSON.stringify never sends them.
                message = json.loads(raw, parse_constant=_not_json)
            except ValueError:
                await websocket.close(CLOSE_BAD_MESSAGE)
                return
            if not isinstance(message, dict):
                await websocket.close(CLOSE_BAD_MESSAGE)
                return
            if message.get("type") == "hello":
                since = message.get("since")
                seen = message.get("seen") or []
                if not isinstance(seen, list):  # the page's script sends a list of ids
                    await websocket.close(CLOSE_BAD_MESSAGE)
                    return
                if isinstance(since, int | float) and not isinstance(since, bool):
                    page.since = float(since)
                try:
                    await page.replay({i for i in seen if isinstance(i, int)})
                except (DatabaseBusy, DatabaseUnavailable) as error:
                    await close_to_be_tried_again(websocket, error)
                    return
                replayed.set()
            elif message.get("type") == "send":
                replayed.set()
                if not await page.run_message(message):
                    return
            else:
                await websocket.close(CLOSE_BAD_MESSAGE)
                return
    except WebSocketDisconnect:
        pass


routes = [WebSocketRoute("/live/{code:str}/{index:str}", live_socket)]
