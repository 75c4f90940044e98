"""What every route needs: settings, project, database and templates, on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.config import Settings
from server.db import Database
from server.project import Project
from server.templating import render_template

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


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


def grove(request: Request) -> Grove:
    """The Grove object of the app serving this request."""
    return request.app.state.grove
