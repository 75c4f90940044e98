"""ASGI middleware that notes when a participant's browser asks for one of their URLs
(``/p/<code>/...``, ``/InitializeParticipant/<code>``, the live socket ``/live/<code>/...``)
in ``grove_participant.last_seen`` (``server/participant_presence.py``): the admin API's
``players/online/``.

Each worker remembers whom it noted lately and writes again only after SEEN_REFRESH_SECONDS,
so a page, its wait-page polls and its socket cost one small write per participant and
interval. A request is noted once its answer has been sent, so the participant never waits
for it (a wait page's long poll counts when it returns), and only if it was not refused (a
made-up code writes nothing); a live socket when it connects. A page submission notes its
participant in its own unit of work, and tells this middleware so (SEEN_BY_ROUTE).
Noting is best effort: a busy or unavailable database never fails the request.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import GroveError
from server.participant_presence import SEEN_REFRESH_SECONDS, note_seen

PARTICIPANT_URL = re.compile(r"^/(?:p|InitializeParticipant|live)/([A-Za-z0-9_-]{1,32})(?:/|$)")
# Set in ``request.state`` by a route whose unit of work noted the participant itself (a page
# submission: ``participant_pages.submit_page(seen=True)``), saving a write of its own.
SEEN_BY_ROUTE = "participant_seen"
# Forget what this worker noted once it remembers this many participants.
MAX_REMEMBERED = 20_000


class NoteParticipantPresence:
    """Note the participant of each participant URL (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.noted: dict[str, float] = {}  # participant code -> monotonic time noted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve; note the participant after an HTTP answer, before a socket's."""
        match = None
        if scope["type"] in ("http", "websocket"):
            match = PARTICIPANT_URL.match(scope.get("path", ""))
        if match is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self._note(scope, match.group(1))
            await self.app(scope, receive, send)
            return
        statuses: list[int] = []
        state = scope.setdefault("state", {})

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            # Only a URL that worked: a flood of made-up codes writes nothing.
            if statuses and statuses[0] < 400:
                if state.get(SEEN_BY_ROUTE):
                    self.noted[match.group(1)] = time.monotonic()
                else:
                    await self._note(scope, match.group(1))

    async def _note(self, scope: Scope, code: str) -> None:
        now = time.monotonic()
        if now - self.noted.get(code, -SEEN_REFRESH_SECONDS - 1) < SEEN_REFRESH_SECONDS:
            return
        if len(self.noted) >= MAX_REMEMBERED:
            self.noted.clear()
        self.noted[code] = now
        try:
            await run_in_threadpool(note_seen, scope["app"].state.grove.db, code)
        except GroveError as exc:
            logging.getLogger("grove").debug("last_seen of %s not noted: %s", code, exc)
