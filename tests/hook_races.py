"""Helpers of the tests of hooks and API calls writing shared rows at once (test_*_race.py):
a session made over the REST API on a live server, participants who open their first page
and then submit it together, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.bots.html_form import parse_forms
from tests import databases
from tests.live_server import live_server

# The lock timeout of the servers these tests start (GROVE_DB_LOCK_TIMEOUT, seconds): short,
# so that a test whose requests queue on a lock fails in seconds, not in a minute; far more
# than a right serialization of these hooks (tens of 50 ms sleeps) needs.
LOCK_TIMEOUT = "3"
# The servers' OTREE_REST_KEY where a test calls the admin API (which needs one), and the
# header that sends it.
REST_KEY = "hook-races-key"
REST_HEADERS = {"Authorization": f"Bearer {REST_KEY}"}


def backends(known_fault_on_postgresql: str | None = None, *, strict: bool = True) -> list[Any]:
    """``BOTH`` for ``@pytest.mark.parametrize("backend", ...)``, both halves slow (servers
    with two workers); with ``known_fault_on_postgresql``, the PostgreSQL half is an xfail for
    that reason, strict (it fails the run once the fault is fixed) unless the fault shows in
    only some runs (``strict=False``)."""
    postgresql = [pytest.mark.slow, pytest.mark.postgres]
    if known_fault_on_postgresql is not None:
        postgresql.append(pytest.mark.xfail(strict=strict, reason=known_fault_on_postgresql))
    return [
        pytest.param(databases.SQLITE, marks=[pytest.mark.slow, pytest.mark.sqlite]),
        pytest.param(databases.POSTGRESQL, marks=postgresql),
    ]


def create_session(base: str, config: str, participants: int, **extra: Any) -> dict[str, Any]:
    """Create a session of ``config`` over the REST API; its detail (``GET /api/sessions/``).
    The key is sent, for a server started with ``OTREE_REST_KEY=REST_KEY``."""
    created = httpx.post(
        f"{base}/api/sessions/",
        json={"session_config_name": config, "num_participants": participants, **extra},
        headers=REST_HEADERS,
        timeout=60,
    )
    assert created.status_code == 200, created.text
    return session_detail(base, created.json()["code"])


def session_detail(base: str, code: str) -> dict[str, Any]:
    """``GET /api/sessions/<code>``: config, vars and participants (with their vars)."""
    answer = httpx.get(f"{base}/api/sessions/{code}", headers=REST_HEADERS, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


class Browser:
    """One participant's browser on a live server: opens their start link, submits the page's
    form (``id="form"``) as a browser would."""

    def __init__(self, base: str, code: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=60)
        self.code = code
        self.url = ""
        self.page = ""

    def start(self) -> Browser:
        """Follow the start link to the first page (kept as ``url`` and ``page``)."""
        answer = self.client.get(f"/InitializeParticipant/{self.code}", follow_redirects=True)
        assert answer.status_code == 200, answer.text
        self.url, self.page = str(answer.url), answer.text
        return self

    def submit(self) -> int:
        """Submit the page opened last with its form's defaults, as a browser would; the
        answer's status (not followed)."""
        [form] = [f for f in parse_forms(self.page) if f.attributes.get("id") == "form"]
        return self.client.post(self.url, data=dict(form.submission({}))).status_code

    def submit_and_arrive(self) -> tuple[int, int]:
        """Submit the page opened last, then open the page it leads to (a wait page: arrive
        there); both answers' statuses, the second's after redirects."""
        [form] = [f for f in parse_forms(self.page) if f.attributes.get("id") == "form"]
        posted = self.client.post(self.url, data=dict(form.submission({})))
        if posted.status_code != 303:
            return posted.status_code, 0
        arrived = self.client.get(posted.headers["location"], follow_redirects=True)
        return posted.status_code, arrived.status_code

    def current(self) -> str:
        """The HTML of the page they are on now (their start link, followed)."""
        page = self.client.get(f"/InitializeParticipant/{self.code}", follow_redirects=True)
        assert page.status_code == 200, page.text
        return page.text

    def close(self) -> None:
        self.client.close()


@contextmanager
def race_server(
    tmp_path: Path, backend: Any, project: Path, **extra_env: str
) -> Iterator[tuple[str, Path]]:
    """A live server with two workers on ``backend`` (a database of its own under
    ``tmp_path``) running ``project``, with the lock timeout LOCK_TIMEOUT and ``extra_env``;
    yields its base URL and the path of its log (for ``log_summary``)."""
    database_url = databases.database_url(tmp_path, project.name, backend)
    log_path = tmp_path / "server.log"
    env = {"GROVE_PROJECT_ROOT": str(project), "GROVE_DB_LOCK_TIMEOUT": LOCK_TIMEOUT, **extra_env}
    with live_server(database_url, workers=2, log_path=log_path, extra_env=env) as base:
        yield base, log_path


@contextmanager
def browsers_of(base: str, session: dict[str, Any]) -> Iterator[list[Browser]]:
    """A Browser for each participant of ``session`` (``create_session``'s detail), each on
    their first page; closed at the end."""
    browsers = [Browser(base, p["code"]).start() for p in session["participants"]]
    try:
        yield browsers
    finally:
        for browser in browsers:
            browser.close()


def at_once(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run each action in a thread of its own, all released together; their results in order
    (an exception an action raised is its result)."""
    ready = threading.Barrier(len(actions), timeout=60)
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        ready.wait()
        try:
            results[index] = action()
        except Exception as exc:  # reported by the test's assertion
            results[index] = exc

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def log_summary(log: str, outcome: Any) -> str:
    """The outcome a test measured, then the server log's lines that say why requests failed
    (deadlocks, busy rows, errors), each once with its count: for an assertion's message."""
    wanted = ("deadlock", "busy", "Error", "error while", "CONTEXT", "[SQL")
    counts: dict[str, int] = {}
    for line in log.splitlines():
        if any(word in line for word in wanted):
            counts[line.strip()[:300]] = counts.get(line.strip()[:300], 0) + 1
    return "\n".join([repr(outcome), *(f"{n} x {line}" for line, n in counts.items())])
