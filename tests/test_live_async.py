"""Async live methods as oTree 6.0.15 runs them: an ``async def`` live method that ``yield``s
its answers sends each one as it is yielded (oTree's live.py, call_live_method_compat, and a
devserver run: the second answer of a method that slept between its yields came half a
second after the first); a falsy answer ends it; an ``async def`` without ``yield`` is an
error ("live_method can only be (a) a regular function that returns a value, or (b) an async
generator function").

The app, tests/projects/live/apps/live_async, counts in a group field, yields to the group,
waits for a file the test creates, counts again and yields to the sender alone. In Grove each
step up to a ``yield`` is a unit of work of its own: the first answer and its write are
committed (and delivered) while the method still waits.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server import live_pages
from server.app import create_app
from server.config import load_settings
from server.live_pages import LiveMethodError, live_method_of
from tests import databases
from tests.conftest import create_demo_session
from tests.test_live_pages import _hello, _next, _send, _socket_url

LIVE_PROJECT = Path(__file__).resolve().parent / "projects" / "live"


@pytest.fixture(autouse=True)
def _roomy_steps(monkeypatch):
    # A loaded machine may take a while between a first answer and the test's release; the
    # limit still ends a method whose test failed before releasing it (no hung teardown).
    monkeypatch.setattr(live_pages, "ASYNC_STEP_SECONDS", 30.0)


@pytest.fixture
def live_app(tmp_path):
    url = databases.database_url(tmp_path, "live_async")
    application = create_app(load_settings(LIVE_PROJECT, {"DATABASE_URL": url}))
    yield application
    application.state.grove.db.dispose()


@pytest.fixture
def client(live_app):
    with TestClient(live_app) as test_client:
        yield test_client


def _pages(client: TestClient) -> list[str]:
    _code, links = create_demo_session(client, "live_async")
    return [str(client.get(link).url).replace("http://testserver", "") for link in links]


def _counter(live_app: Any) -> int:
    group_cls = live_app.state.grove.project.apps["live_async"].group_cls
    with live_app.state.grove.db.read() as db:
        return db.scalars(sa.select(group_cls.counter)).one()


def _wait_for_counter(live_app: Any, value: int) -> None:
    deadline = time.monotonic() + 10
    while _counter(live_app) != value:
        assert time.monotonic() < deadline, f"the counter stayed {_counter(live_app)}"
        time.sleep(0.01)


def test_each_yield_is_committed_and_delivered_while_the_method_goes_on(client, live_app, tmp_path):
    pages = _pages(client)
    release = tmp_path / "release"
    with (
        client.websocket_connect(_socket_url(pages[0])) as sender,
        client.websocket_connect(_socket_url(pages[1])) as other,
    ):
        for ws in (sender, other):
            _hello(ws, time.time())
        sender.send_json({"type": "send", "id": "s-1", "data": {"release": str(release)}})
        # The first answer reaches the other member, its write is stored, and the method is
        # still waiting for the file: it has not ended.
        assert _next(other, "message")["data"] == {"step": 1, "counter": 1}
        assert _counter(live_app) == 1
        assert _next(sender, "message")["data"] == {"step": 1, "counter": 1}
        release.touch()
        assert _next(sender, "message")["data"] == {"step": 2, "counter": 11}
        assert _next(sender, "ack") == {"type": "ack", "id": "s-1", "ok": True}
        # The same message again (a page that reconnected) does not run again.
        assert _send(sender, "s-1", {"release": str(release)})["ok"] is True
    assert _counter(live_app) == 11


def test_a_step_that_raises_keeps_what_the_steps_before_it_stored(client, live_app, tmp_path):
    pages = _pages(client)
    release = tmp_path / "release"
    with client.websocket_connect(_socket_url(pages[0])) as sender:
        _hello(sender, time.time())
        data = {"release": str(release), "kind": "fail"}
        sender.send_json({"type": "send", "id": "f-1", "data": data})
        assert _next(sender, "message")["data"] == {"step": 1, "counter": 1}
        release.touch()
        ack = _next(sender, "ack")
        assert ack["ok"] is False
        assert ack["error"] == "Error in live_method: ValueError"
    _wait_for_counter(live_app, 1)  # the second step's +10 was rolled back


def test_a_falsy_answer_ends_the_method(client, live_app, tmp_path):
    pages = _pages(client)
    release = tmp_path / "release"
    release.touch()
    with client.websocket_connect(_socket_url(pages[0])) as sender:
        _hello(sender, time.time())
        ack = _send(sender, "n-1", {"release": str(release), "kind": "stop"})
        assert ack == {"type": "ack", "id": "n-1", "ok": True}
        assert _next(sender, "message")["data"] == {"step": 1, "counter": 1}
        # The next message answered is the next one sent: nothing came after the falsy one.
        assert _send(sender, "n-2", {"release": str(release), "kind": "stop"})["ok"] is True
        assert _next(sender, "message")["data"] == {"step": 1, "counter": 12}
    # Each message: +1, +10 in the step that yielded None; the +1000 after it never ran.
    assert _counter(live_app) == 22


def test_an_async_def_without_yield_is_refused_as_in_otree(client, live_app):
    pages = _pages(client)
    refused = client.post(pages[0], data={}, follow_redirects=True)
    assert "Refused" in refused.text
    page = str(refused.url).replace("http://testserver", "")
    with client.websocket_connect(_socket_url(page)) as ws:
        _hello(ws, time.time())
        ack = _send(ws, "r-1", {})
    assert ack["ok"] is False
    assert ack["error"] == "Error in live_method: LiveMethodError"
    project = live_app.state.grove.project
    entry = next(e for e in project.page_sequence(["live_async"]) if e.page_name == "Refused")
    with pytest.raises(LiveMethodError, match="async function that returns its answer"):
        live_method_of(project, entry)


def test_a_step_that_awaits_too_long_is_cancelled_and_rolled_back(
    client, live_app, tmp_path, monkeypatch
):
    # The method waits for a file nobody creates: its second step would hold the locks (and
    # a server thread) for good. It is cancelled at the limit and fails as if it had raised.
    monkeypatch.setattr(live_pages, "ASYNC_STEP_SECONDS", 0.3)
    pages = _pages(client)
    with client.websocket_connect(_socket_url(pages[0])) as sender:
        _hello(sender, time.time())
        sender.send_json({"type": "send", "id": "t-1", "data": {"release": str(tmp_path / "x")}})
        assert _next(sender, "message")["data"] == {"step": 1, "counter": 1}
        ack = _next(sender, "ack")
        assert ack["ok"] is False
        assert ack["error"] == "Error in live_method: LiveMethodError"
    assert _counter(live_app) == 1  # the second step's +10 never committed
    # The group's row is free again: the other member's page submits at once.
    assert client.post(pages[1], data={}, follow_redirects=True).status_code == 200


def test_while_a_method_awaits_other_participants_write_at_once(client, live_app, tmp_path):
    # oTree's reason for async live methods: a web API call (an LLM's answer may take
    # seconds) must not hold up the server. While the method awaits, no lock is held: the
    # other member submits their page at once, and the method's next write is still stored.
    pages = _pages(client)
    release = tmp_path / "release"
    with client.websocket_connect(_socket_url(pages[0])) as sender:
        _hello(sender, time.time())
        sender.send_json({"type": "send", "id": "w-1", "data": {"release": str(release)}})
        assert _next(sender, "message")["data"] == {"step": 1, "counter": 1}
        started = time.monotonic()
        submitted = client.post(pages[1], data={}, follow_redirects=False)
        took = time.monotonic() - started
        assert submitted.status_code == 303
        assert not release.exists()  # the method was still waiting all along
        assert took < 5, f"the other member's submission waited {took:.1f} s for the method"
        release.touch()
        assert _next(sender, "message")["data"] == {"step": 2, "counter": 11}
        assert _next(sender, "ack") == {"type": "ack", "id": "w-1", "ok": True}
    assert _counter(live_app) == 11


def test_a_chat_with_a_slow_model_stores_each_step_as_it_yields(client, live_app, tmp_path):
    # ExtraModel rows created in a step are found by filter/values_dicts in that step and
    # stored at its yield; participant.vars changed in place is stored too.
    pages = _pages(client)
    page = pages[0]
    for _ in range(2):  # Stream, Refused: on to Chat
        page = str(client.post(page, data={}, follow_redirects=True).url)
        page = page.replace("http://testserver", "")
    assert "/Chat/" in page
    project = live_app.state.grove.project
    app = project.apps["live_async"]
    with client.websocket_connect(_socket_url(page)) as ws:
        _hello(ws, time.time())
        for number in (1, 2):
            release = tmp_path / f"release-{number}"
            ws.send_json(
                {
                    "type": "send",
                    "id": f"c-{number}",
                    "data": {"text": f"question {number}", "release": str(release)},
                }
            )
            first = _next(ws, "message")["data"]
            assert first["asked"] == number
            assert first["history"][-1] == f"question {number}"
            assert len(first["history"]) == 2 * number - 1
            # Stored at the yield, while the method still awaits its model.
            with live_app.state.grove.db.read() as db:
                texts = db.scalars(sa.select(app.module.Message.text)).all()
            assert texts[-1] == f"question {number}"
            release.touch()
            assert _next(ws, "message")["data"] == {"stored": 2 * number}
            assert _next(ws, "ack")["ok"] is True
    with live_app.state.grove.db.read() as db:
        rows = db.execute(
            sa.select(app.module.Message.role, app.module.Message.text).order_by(
                app.module.Message.id
            )
        ).all()
        reply = db.scalars(sa.select(app.player_cls.reply).where(app.player_cls.reply != "")).all()
        asked = db.scalars(sa.select(live_pages.Participant.vars)).all()
    assert [tuple(r) for r in rows] == [
        ("user", "question 1"),
        ("assistant", "an answer to question 1"),
        ("user", "question 2"),
        ("assistant", "an answer to question 2"),
    ]
    assert reply == ["an answer to question 2"]
    assert any(v.get("asked") == 2 for v in asked)
