"""Restarts, schema changes, bad settings and session creation as one transaction."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

import server.app
from server.app import create_app
from server.config import load_settings
from server.db import Database
from server.errors import ConfigurationError, InvalidArguments, SchemaMismatch
from server.models.core import ExperimentSession, Participant
from server.project import load_project
from server.sessions import create_session
from tests import databases
from tests.conftest import REPO_ROOT, create_demo_session
from tests.live_server import live_server
from tests.test_survey_flow import VALID_DEMOGRAPHICS


def test_restart_resumes_on_the_same_page(settings):
    first = create_app(settings)
    with TestClient(first) as client:
        _code, links = create_demo_session(client, "survey")
        url = client.get(links[0], follow_redirects=False).headers["location"]
        attitudes = client.post(url, data=VALID_DEMOGRAPHICS, follow_redirects=False)
        attitudes_url = attitudes.headers["location"]
    first.state.grove.db.dispose()

    second = create_app(settings)
    with TestClient(second) as client:
        resumed = client.get(links[0], follow_redirects=False)
        assert resumed.headers["location"] == attitudes_url
        assert client.get(attitudes_url).status_code == 200
    second.state.grove.db.dispose()


@pytest.mark.slow
def test_real_server_restart_loses_nothing(tmp_path):
    database_url = databases.database_url(tmp_path, "restart")
    with (
        live_server(database_url, workers=1) as base,
        httpx.Client(base_url=base, follow_redirects=True) as http,
    ):
        created = http.post("/demo/survey")
        links = [
            line.split('href="')[1].split('"')[0]
            for line in created.text.splitlines()
            if "grove-participant-link" in line
        ]
        url = http.get(links[0]).url.path
        after = http.post(url, data=VALID_DEMOGRAPHICS).url.path
        assert after.endswith("/survey/Attitudes/2")
    with (
        live_server(database_url, workers=1) as base,
        httpx.Client(base_url=base, follow_redirects=True) as http,
    ):
        resumed = http.get(links[0].replace(links[0].split("/Initialize")[0], base))
        assert resumed.url.path == after
        assert "Your views" in resumed.text


def test_changed_schema_is_detected_at_start(settings):
    app = create_app(settings)
    engine = app.state.grove.db.engine
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE survey_player ADD COLUMN shoe_size INTEGER")
    app.state.grove.db.dispose()
    with pytest.raises(SchemaMismatch, match=r"Player\.shoe_size.*survey_player.*resetdb"):
        create_app(settings)


def test_a_refused_start_leaves_no_connection_open(settings, monkeypatch):
    """On PostgreSQL a connection left in the pool of a refused start stays open until the
    garbage collector finds it (and a server has a limit on connections)."""
    app = create_app(settings)
    with app.state.grove.db.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE survey_player ADD COLUMN shoe_size INTEGER")
    app.state.grove.db.dispose()
    made: list[Database] = []

    class RecordedDatabase(Database):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(server.app, "Database", RecordedDatabase)
    with pytest.raises(SchemaMismatch):
        create_app(settings)
    [refused] = made
    assert refused.engine.pool.checkedin() == 0
    assert refused.engine.pool.checkedout() == 0


def test_shutdown_lets_a_timeout_sweep_under_way_finish(settings, monkeypatch):
    """Cancelled, a sweep would run on in its thread after shutdown and keep its database
    connection past the engine's disposal (on PostgreSQL: an open connection left behind)."""
    started, finished = threading.Event(), threading.Event()

    def slow_sweep(db, project) -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    monkeypatch.setattr(server.app, "submit_due_pages", slow_sweep)
    app = create_app(settings.with_changes(timeout_poll_seconds=0.01))
    try:
        with TestClient(app):
            assert started.wait(10)
        assert finished.is_set()
    finally:
        app.state.grove.db.dispose()


@pytest.mark.slow  # a subprocess per case, or many draws: seconds each
def test_resetdb_command_recreates_tables(tmp_path):
    database_url = databases.database_url(tmp_path, "reset")
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    engine = databases.engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE survey_player (id INTEGER PRIMARY KEY)")
    engine.dispose()
    failing = subprocess.run(
        [sys.executable, "-m", "server", "create_session", "survey", "1"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert failing.returncode == 1
    assert "python -m server resetdb" in failing.stderr
    reset = subprocess.run(
        [sys.executable, "-m", "server", "resetdb", "--yes"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert reset.returncode == 0, reset.stderr
    created = subprocess.run(
        [sys.executable, "-m", "server", "create_session", "survey", "2"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.count("/InitializeParticipant/") == 2


def _minimal_project(tmp_path: Path, settings_text: str) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "apps" / "survey", root / "apps" / "survey")
    (root / "settings.py").write_text(settings_text)
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [dict(name='s', app_sequence=['survey'], num_demo_participants=1)]\n"
    )
    return root


def test_bad_setting_names_file_and_key(tmp_path):
    root = _minimal_project(tmp_path, "USE_POINTS = 'yes'\n")
    with pytest.raises(ConfigurationError, match=r"settings.py: USE_POINTS must be a bool"):
        load_settings(root, {})


def test_bad_session_config_names_the_key(tmp_path):
    root = _minimal_project(tmp_path, "")
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [dict(name='s', app_sequence=['nope'], num_demo_participants=1)]\n"
    )
    with pytest.raises(
        ConfigurationError,
        match=r"session_configs.py: SESSION_CONFIGS\[0\] \(s\): app 'nope' not found",
    ):
        load_project(load_settings(root, {}))


def test_failed_creating_session_leaves_nothing(settings):
    project = load_project(settings)
    app = create_app(settings)
    database = app.state.grove.db
    with pytest.raises(InvalidArguments), database.transaction() as session:
        create_session(session, project, "survey", 0)
    with pytest.raises(RuntimeError), database.transaction() as session:  # noqa: PT012
        create_session(session, project, "survey", 3)
        raise RuntimeError("boom after the inserts")
    with database.read() as session:
        assert session.scalar(sa.select(sa.func.count(ExperimentSession.id))) == 0
        assert session.scalar(sa.select(sa.func.count(Participant.id))) == 0
        assert session.scalar(sa.text("SELECT count(*) FROM survey_player")) == 0
    database.dispose()


def test_codes_are_long_and_distinct(client, app):
    _code, _links = create_demo_session(client, "survey")
    with app.state.grove.db.read() as session:
        codes = [p.code for p in session.scalars(sa.select(Participant))]
        codes += [s.code for s in session.scalars(sa.select(ExperimentSession))]
    assert all(len(code) >= 8 for code in codes)
    assert len(set(codes)) == len(codes)
