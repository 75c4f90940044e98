"""A database error while a wait page's completion moves the waiting members on fails the
last arrival's whole request (nothing of it kept), rather than leaving the members on the wait
page while the last one moves on: only app code that raises (a next page's ``is_displayed``)
keeps a member behind (server/flow.py, ``_moved_in_savepoint``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from bench.projects import build_grove_project
from server import flow
from server.app import create_app
from server.bots.html_form import page_form
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session


def test_a_database_error_moving_the_members_fails_the_last_arrival(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = build_grove_project(tmp_path / "project", configs=["bench_wait"])
    settings = load_settings(project, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings.with_changes(timeout_poll_seconds=3600.0))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            _code, links = create_demo_session(client, "bench_wait")
            urls = [str(client.get(link).url) for link in links[:3]]
            for url in urls[:2]:
                form = page_form(client.get(url).text)
                client.post(url, data=dict(form.submission({})))

            def failing(*_args: Any) -> None:
                raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

            monkeypatch.setattr(flow, "record_wait_page_completions", failing)
            form = page_form(client.get(urls[2]).text)
            answer = client.post(urls[2], data=dict(form.submission({})), follow_redirects=False)
            monkeypatch.undo()
            assert answer.status_code >= 500
            # Nothing of it was kept: the last one is still on their page, the others wait.
            assert "/Arrive/1" in str(client.get(urls[2]).url)
            for url in urls[:2]:
                assert "/Gather/2" in str(client.get(url).url)
            # Submitted again, it completes the page for everyone.
            form = page_form(client.get(urls[2]).text)
            answer = client.post(urls[2], data=dict(form.submission({})), follow_redirects=False)
            assert "/After/3" in answer.headers["location"]
            for url in urls[:2]:
                assert "/After/3" in str(client.get(url).url)
    finally:
        app.state.grove.db.dispose()
