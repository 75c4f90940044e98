"""Noting (in ``server/http/middleware.py``) when a participant's browser asks for one of their
URLs (``/p/<code>/...``, ``/InitializeParticipant/<code>``, the live socket
``/live/<code>/...``) in ``grove_participant.last_seen`` (``server/participant_presence.py``):
the admin API's ``players/online/``.

Each worker remembers whom it noted lately and writes again only after SEEN_REFRESH_SECONDS,
so a page, its wait-page polls and its socket cost one small write per participant and
interval. A request is noted once its answer has been sent, so the participant never waits
for it (a wait page's long poll counts when it returns), and only if it was not refused (a
made-up code writes nothing); a live socket when it connects. A page submission notes its
participant in its own unit of work, and tells the middleware so (SEEN_BY_ROUTE).
Noting is best effort: a busy or unavailable database never fails the request.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.types import Scope

from server.errors import GroveError
from server.participant_presence import SEEN_REFRESH_SECONDS, note_seen

PARTICIPANT_URL = re.compile(r"^/(?:p|InitializeParticipant|live)/([A-Za-z0-9_-]{1,32})(?:/|$)")
# Set in ``request.state`` by a route whose unit of work noted the participant itself (a page
# submission: ``participant_pages.submit_page(seen=True)``), saving a write of its own.
SEEN_BY_ROUTE = "participant_seen"
# Set in ``request.state`` by a route that read the participant's row anyway (a page GET):
# whether their ``last_seen`` is due (``participant_presence.seen_is_due``). Not due: nothing
# to read or write; due: the write without the read that would decide it.
SEEN_DUE_BY_ROUTE = "participant_seen_due"
# Forget what this worker noted once it remembers this many participants.
MAX_REMEMBERED = 20_000


def participant_code(path: str) -> str | None:
    """The participant code of a participant URL (PARTICIPANT_URL), else None."""
    match = PARTICIPANT_URL.match(path)
    return None if match is None else match.group(1)


class PresenceNotes:
    """What one worker noted lately, and the noting (see the module's docstring)."""

    def __init__(self) -> None:
        self.noted: dict[str, float] = {}  # participant code -> monotonic time noted

    async def after_answer(self, scope: Scope, code: str, status: int | None) -> None:
        """Note ``code`` once the HTTP answer (``status``, None if none started) was sent:
        only an answer below 400, and not again if the route noted it (SEEN_BY_ROUTE)."""
        if status is None or status >= 400:
            return  # only a URL that worked: a flood of made-up codes writes nothing
        state = scope.get("state", {})
        due = state.get(SEEN_DUE_BY_ROUTE)
        if state.get(SEEN_BY_ROUTE) or due is False:
            self._remember(code, time.monotonic())
        else:
            await self.note(scope, code, known_due=due is True)

    def _remember(self, code: str, now: float) -> None:
        if len(self.noted) >= MAX_REMEMBERED:
            self.noted.clear()
        self.noted[code] = now

    async def note(self, scope: Scope, code: str, *, known_due: bool = False) -> None:
        """Write ``code``'s ``last_seen`` unless this worker did so less than
        SEEN_REFRESH_SECONDS ago (a socket's: before it is served); ``known_due``: the
        request's own read found it due (``note_seen``'s)."""
        now = time.monotonic()
        if now - self.noted.get(code, -SEEN_REFRESH_SECONDS - 1) < SEEN_REFRESH_SECONDS:
            return
        self._remember(code, now)
        try:
            grove = scope["app"].state.grove
            await grove.run_blocking(note_seen, grove.db, code, known_due=known_due)
        except GroveError as exc:
            logging.getLogger("grove").debug("last_seen of %s not noted: %s", code, exc)
