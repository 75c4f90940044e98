"""The number test project (tests/projects/numbers): its app, its pages, and a browser's view.

A test reads the ``<input>`` a page renders (type, inputmode, min, max, step, value, the unit
beside it), decides as a browser would whether the participant's typing can be submitted at
all, posts what the browser sends, and reads the error shown beside each field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import page_form
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session

PROJECT = Path(__file__).parent / "projects" / "numbers"


@contextmanager
def numbers_client(tmp_path: Path, **changes: Any) -> Iterator[tuple[TestClient, Any]]:
    """A client of the number project with settings changed (``language_code="de"``...)."""
    database_url = changes.pop("database_url", None) or databases.database_url(tmp_path, "numbers")
    settings = load_settings(PROJECT, {"DATABASE_URL": database_url}).with_changes(**changes)
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            yield client, app
    finally:
        app.state.grove.db.dispose()


def start(client: TestClient, config: str = "number_fields") -> list[str]:
    """Create a demo session; return each participant's first page URL."""
    _code, links = create_demo_session(client, config)
    return [client.get(link, follow_redirects=False).headers["location"] for link in links]


@dataclass
class FieldView:
    """What the participant sees of one field: its input's attributes, unit and error."""

    attributes: dict[str, str]
    unit: str | None = None
    error: str | None = None


@dataclass
class _FieldBox:
    depth: int
    names: list[str] = field(default_factory=list)
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    unit: list[str] = field(default_factory=list)
    error: list[str] = field(default_factory=list)


class _FieldParser(HTMLParser):
    """Splits a page into its ``grove-field`` boxes (label, input, unit, error)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.boxes: list[_FieldBox] = []
        self._box: _FieldBox | None = None
        self._depth = 0
        self._collect: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        classes = attributes.get("class", "").split()
        if tag == "div":
            self._depth += 1
            if "grove-field" in classes:
                self._box = _FieldBox(depth=self._depth)
                self.boxes.append(self._box)
        if self._box is None:
            return
        if tag == "input" and attributes.get("name"):
            self._box.names.append(attributes["name"])
            self._box.inputs[attributes["name"]] = attributes
        if "input-group-text" in classes:
            self._collect = self._box.unit
        elif attributes.get("role") == "alert":
            self._collect = self._box.error

    def handle_endtag(self, tag: str) -> None:
        if tag in ("span", "div"):
            self._collect = None
        if tag == "div":
            if self._box is not None and self._depth == self._box.depth:
                self._box = None
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._collect is not None:
            self._collect.append(data)


def field_views(html: str) -> dict[str, FieldView]:
    """Each form field of a page by name, as the participant sees it."""
    parser = _FieldParser()
    parser.feed(html)
    views = {}
    for box in parser.boxes:
        for name in box.names:
            views[name] = FieldView(
                attributes=box.inputs[name],
                unit="".join(box.unit).strip() or None,
                error="".join(box.error).strip() or None,
            )
    return views


_HTML_FLOAT = re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?")


def browser_submits(attributes: dict[str, str], typed: str) -> bool:
    """Whether a browser submits what the participant typed into this input.

    A text input submits anything. A number input accepts only HTML's "valid floating-point
    number" (no comma), within ``min``/``max``, on the ``step`` (1 when absent): otherwise it
    keeps the form from being sent and tells the participant.
    """
    if attributes.get("type", "text") != "number" or typed == "":
        return True
    if not _HTML_FLOAT.fullmatch(typed):
        return False
    value = Decimal(typed)
    try:
        low = Decimal(attributes["min"]) if "min" in attributes else None
        high = Decimal(attributes["max"]) if "max" in attributes else None
    except InvalidOperation:
        return False
    if (low is not None and value < low) or (high is not None and value > high):
        return False
    step = attributes.get("step", "1")
    if step == "any":
        return True
    return (value - (low or Decimal(0))) % Decimal(step) == 0


def submit(client: TestClient, url: str, typed: dict[str, str]) -> Any:
    """Type into the page's inputs and post what a browser sends (even where a browser
    would refuse, so the server's own check is tested too)."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    form = page_form(page.text)
    pairs = form.submission(typed)
    return client.post(form.action or url, data=dict(pairs), follow_redirects=False)


def stored_player(app: Any, app_name: str = "number_fields", player_id: int | None = None) -> Any:
    """The values of the (first) player of an app, as Python reads them back."""
    grove = app.state.grove
    player_cls = grove.project.apps[app_name].player_cls
    with grove.db.transaction() as db:
        query = sa.select(player_cls).order_by(player_cls.id)
        if player_id is not None:
            query = query.where(player_cls.id == player_id)
        player = db.scalars(query).first()
        return {column: getattr(player, column) for column in _columns(player_cls)}


def _columns(player_cls: type) -> list[str]:
    return [c.key for c in sa.inspect(player_cls).column_attrs]
