"""What every route needs: settings, project, database and templates, on ``app.state``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.config import Settings
from server.db import Database
from server.http.thread_hop import run_in_thread
from server.project import Project
from server.templating import render_template

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Grove:
    """The running server's shared objects (no per-request state lives here)."""

    settings: Settings
    project: Project
    db: Database
    templates: jinja2.Environment
    rooms: dict[str, Any] = field(default_factory=dict)
    # This worker's end of the push channel (server.push_hub.PushHub).
    push_hub: Any = None
    # Whether a page request's blocking work (its unit of work and rendering) runs on the
    # event loop itself rather than in a worker thread: the bot runner's app, whose only
    # client is the runner in the same event loop, so a thread per request would only add
    # the hops (server.bots.runner.bot_app). A server's workers keep their loop free.
    blocking_on_loop: bool = False

    async def run_blocking(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)`` in a worker thread (``server/http/thread_hop.py``; on
        the event loop when ``blocking_on_loop``); its result, or what it raised."""
        if self.blocking_on_loop:
            return _outside_the_running_loop(function, *args, **kwargs)
        return await run_in_thread(function, *args, **kwargs)

    def render(
        self, template: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        """Render a template to an HTML response."""
        html = render_template(self.templates.get_template(template), context)
        return HTMLResponse(html, status_code=status_code)

    def message_page(self, title: str, message: str, status_code: int = 200) -> HTMLResponse:
        """A plain page that tells a participant something (finished, full, not found...)."""
        return self.render(
            "grove/message.html", {"title": title, "message": message}, status_code=status_code
        )


def _outside_the_running_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` on the event loop's thread as if no loop ran there, so
    page code may run a coroutine of its own with ``asyncio.run`` or a loop's
    ``run_until_complete``, as it may in a server's worker thread and in ``otree test``."""
    loop = asyncio.get_running_loop()
    asyncio._set_running_loop(None)
    try:
        return function(*args, **kwargs)
    finally:
        asyncio._set_running_loop(loop)
        asyncio.set_event_loop(loop)  # asyncio.run leaves the thread without one


def grove(request: Request) -> Grove:
    """The Grove object of the app serving this request."""
    return request.app.state.grove
