"""The database failing under a running server: a loud 503, never a 200 that vanishes.

A SQLite file deleted or replaced while the server runs, a folder the server cannot write, and
a writer that holds the write lock (or, on PostgreSQL, a row) and does not let go. Each is met
as a participant or a REST client meets it: the page or the JSON answer, and what is stored
afterwards.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import REPO_ROOT, create_demo_session
from tests.reliability.server_process import server_process

# slow: they wait out lock timeouts and start servers.
pytestmark = pytest.mark.slow

LEDGER_PROJECT = REPO_ROOT / "tests" / "projects" / "ledger"

DEMOGRAPHICS = {"age": "30", "gender": "Female", "temperature": "-3.5", "year_in_school": "Junior"}
LOCK_TIMEOUT = 1.0


@contextmanager
def running(database_url: str, lock_timeout: float = LOCK_TIMEOUT) -> Iterator[TestClient]:
    """The sample project's app on ``database_url`` with a short lock timeout, running."""
    environ = {"DATABASE_URL": database_url, "GROVE_DB_LOCK_TIMEOUT": str(lock_timeout)}
    app = create_app(load_settings(REPO_ROOT, environ))
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.grove.db.dispose()


def on_first_page(client: TestClient) -> tuple[str, str, str]:
    """A survey participant who has seen the first page: (the session's code, the
    participant's code, the page's URL)."""
    session_code, links = create_demo_session(client, "survey")
    page_url = client.get(links[0], follow_redirects=False).headers["location"]
    assert client.get(page_url).status_code == 200
    return session_code, page_url.split("/")[2], page_url


def stored_age(database_url: str, participant_code: str) -> int | None:
    """The participant's stored ``age`` (survey, round 1), read beside the server."""
    engine = databases.engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT pl.age FROM survey_player pl JOIN grove_participant pa"
                    " ON pl.participant_id = pa.id WHERE pa.code = :code"
                ),
                {"code": participant_code},
            ).scalar_one()
    finally:
        engine.dispose()


def stored_entry(database_url: str, participant_code: str) -> int | None:
    """The participant's round 1 ``entry`` in the ledger app, read beside the server."""
    engine = databases.engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT pl.entry FROM ledger_player pl JOIN grove_participant pa"
                    " ON pl.participant_id = pa.id WHERE pa.code = :code AND pl.round_number = 1"
                ),
                {"code": participant_code},
            ).scalar_one()
    finally:
        engine.dispose()


def assert_unavailable_page(response, *words: str) -> None:
    assert response.status_code == 503, response.text
    assert "text/html" in response.headers["content-type"]
    for word in words:
        assert word in response.text


def assert_unavailable_json(response, *words: str) -> dict:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == 503
    for word in words:
        assert word in body["error"]
    return body


def remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.mark.sqlite
def test_a_database_file_deleted_under_the_server_is_a_503_not_a_lost_write(tmp_path, caplog):
    url = databases.database_url(tmp_path, "deleted", databases.SQLITE)
    path = databases.sqlite_file(url)
    with running(url) as client, caplog.at_level(logging.ERROR, logger="grove.db"):
        _session, code, page_url = on_first_page(client)
        remove_database_files(path)

        submitted = client.post(page_url, data=DEMOGRAPHICS, follow_redirects=False)
        assert_unavailable_page(submitted, "was deleted", "Nothing was saved")
        posted = client.post(f"/api/participant_vars/{code}", json={"vars": {"paid": True}})
        assert_unavailable_json(posted, str(path), "was deleted")
        assert_unavailable_page(client.get(page_url), "was deleted")
        assert not path.exists()  # no empty database was made in its place
        assert any("was deleted" in record.getMessage() for record in caplog.records)


@pytest.mark.sqlite
def test_the_timeout_sweep_says_once_that_the_database_is_gone(tmp_path, caplog):
    """The background sweep of timed-out pages runs every poll interval: with the database
    gone it logs one line, not a traceback a second (nor a failure per participant)."""
    url = databases.database_url(tmp_path, "sweep", databases.SQLITE)
    settings = load_settings(REPO_ROOT, {"DATABASE_URL": url}).with_changes(
        timeout_poll_seconds=0.05
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client, caplog.at_level(logging.INFO, logger="grove"):
            create_demo_session(client, "survey")
            remove_database_files(databases.sqlite_file(url))
            time.sleep(0.6)  # about a dozen sweeps
    finally:
        app.state.grove.db.dispose()
    sweep = [r for r in caplog.records if r.name in ("grove", "grove.timeouts")]
    said = [r for r in sweep if "timed-out pages wait for the database" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in sweep]
    assert "was deleted" in said[0].getMessage()
    assert not [r for r in sweep if r.exc_info], "a traceback was logged"


@pytest.mark.sqlite
def test_a_database_file_replaced_under_the_server_is_a_503(tmp_path):
    url = databases.database_url(tmp_path, "replaced", databases.SQLITE)
    path = databases.sqlite_file(url)
    with running(url) as client:
        _session, code, page_url = on_first_page(client)
        backup = databases.sqlite_file(databases.database_url(tmp_path, "backup", databases.SQLITE))
        with sqlite3.connect(path) as source, sqlite3.connect(backup) as target:
            source.backup(target)
        os.replace(backup, path)

        submitted = client.post(page_url, data=DEMOGRAPHICS, follow_redirects=False)
        assert_unavailable_page(submitted, "was replaced", "Restart the server")
        posted = client.post(f"/api/participant_vars/{code}", json={"vars": {"paid": True}})
        assert_unavailable_json(posted, "was replaced")
    # The replacement is untouched, and restarting on it works.
    assert stored_age(url, code) is None
    with running(url) as client:
        assert client.post(page_url, data=DEMOGRAPHICS, follow_redirects=False).status_code == 303
    assert stored_age(url, code) == 30


def _command(database_url: str, **environ: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "create_session", "survey", "1"],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "GROVE_PROJECT_ROOT": str(REPO_ROOT),
            **environ,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.sqlite
def test_a_database_in_a_missing_folder_is_refused_at_start(tmp_path):
    url = databases.database_url(tmp_path / "no_such_folder", "db", databases.SQLITE)
    missing = databases.sqlite_file(url)
    result = _command(url)
    assert result.returncode == 1
    assert f"the folder {missing.parent} does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert not missing.parent.exists()


@pytest.mark.parametrize("value", ["soon", "0", "inf"])
def test_a_lock_timeout_that_is_not_a_positive_number_is_refused_at_start(tmp_path, value):
    result = _command(databases.database_url(tmp_path), GROVE_DB_LOCK_TIMEOUT=value)
    assert result.returncode == 1
    assert "GROVE_DB_LOCK_TIMEOUT must be a number of seconds above 0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.sqlite
def test_a_database_in_an_unwritable_folder_is_refused_at_start(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    # Immutable, so that not even root (which ignores permission bits) can write in it.
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("cannot make a folder unwritable here (root, without chattr)")
        result = _command(databases.database_url(folder, "db", databases.SQLITE))
    finally:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o700)
    assert result.returncode == 1
    assert f"the folder {folder} is not writable" in result.stderr
    assert "Traceback" not in result.stderr


@contextmanager
def stuck_writer(
    backend: str, database_url: str, participant_code: str, *, grove_lock: bool = True
) -> Iterator[None]:
    """Another connection holding the write lock (SQLite: Grove's file lock and SQLite's own,
    as a worker stuck in a unit of work would, or with ``grove_lock=False`` only SQLite's, as
    the sqlite3 shell would) or the participant's row (PostgreSQL)."""
    if backend == databases.SQLITE:
        path = Path(sa.make_url(database_url).database or "")
        lock_fd = os.open(f"{path}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
        if grove_lock:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
            os.close(lock_fd)
        return
    engine = databases.engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(
                sa.text("SELECT id FROM grove_participant WHERE code = :code FOR UPDATE"),
                {"code": participant_code},
            ).one()
            yield
            connection.rollback()
    finally:
        engine.dispose()


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.parametrize("backend", databases.BOTH)
def test_a_stuck_writer_stalls_no_page_read_and_writers_fail_fast(tmp_path, backend):
    url = databases.database_url(tmp_path, "stuck", backend)
    with running(url) as client:
        session_code, code, page_url = on_first_page(client)
        with stuck_writer(backend, url, code):
            page, read_seconds = timed(client.get, page_url)
            assert page.status_code == 200
            assert 'name="age"' in page.text
            assert read_seconds < 0.5, f"a page read waited {read_seconds:.2f} s for a writer"
            detail, api_seconds = timed(client.get, f"/api/sessions/{session_code}")
            assert detail.status_code == 200
            assert api_seconds < 0.5

            submitted, write_seconds = timed(
                client.post, page_url, data=DEMOGRAPHICS, follow_redirects=False
            )
            assert_unavailable_page(submitted, "database is busy", "try again")
            assert submitted.headers["retry-after"] == "1"
            assert LOCK_TIMEOUT * 0.9 <= write_seconds < LOCK_TIMEOUT + 2.5
            posted = client.post(f"/api/participant_vars/{code}", json={"vars": {"paid": True}})
            assert_unavailable_json(posted, "database is busy")
            assert posted.headers["retry-after"] == "1"
        assert stored_age(url, code) is None  # the refused submission left nothing behind

        submitted = client.post(page_url, data=DEMOGRAPHICS, follow_redirects=False)
        assert submitted.status_code == 303
        assert client.post(
            f"/api/participant_vars/{code}", json={"vars": {"paid": True}}
        ).status_code in (200, 201)
    assert stored_age(url, code) == 30


@pytest.mark.slow
@pytest.mark.sqlite
def test_a_full_disk_under_the_server_is_a_503_and_every_acknowledged_write_is_kept(tmp_path):
    """The server may write no file past 3 MB (``prlimit --fsize``, as a full disk would stop
    it): vars posts and a page submission meet it; nothing is answered 200 that is not
    stored, and nothing is a 500."""
    if shutil.which("prlimit") is None:
        pytest.skip("prlimit (util-linux) is not installed")
    url = databases.database_url(tmp_path, "full", databases.SQLITE)
    log_path = tmp_path / "server.log"
    launcher = ("prlimit", f"--fsize={3 * 1024 * 1024}", "--")
    acknowledged: dict[str, str] = {}
    refusals: list[str] = []
    with server_process(url, LEDGER_PROJECT, log_path, launcher=launcher) as server:
        client = httpx.Client(base_url=server.base_url, timeout=60)
        created = client.post(
            "/api/sessions/", json={"session_config_name": "ledger", "num_participants": 1}
        )
        assert created.status_code == 200, created.text
        session_code = created.json()["code"]
        start = client.get(f"/api/sessions/{session_code}").json()["participants"][0]["code"]
        page_url = client.get(f"/InitializeParticipant/{start}").headers["location"]
        for number in range(40):
            key, value = f"blob_{number}", os.urandom(100_000).hex()
            posted = client.post(f"/api/participant_vars/{start}", json={"vars": {key: value}})
            if posted.status_code == 200:
                acknowledged[key] = value
                continue
            body = assert_unavailable_json(posted, "cannot store this", "Nothing was saved")
            refusals.append(body["error"])
            if len(refusals) == 3:
                break
        assert refusals, f"3 MB never filled up:\n{server.output()}"
        # A small write may still fit where the refused ones did not: stored, or refused.
        submitted = client.post(page_url, data={"entry": "5"}, follow_redirects=False)
        if submitted.status_code != 303:
            assert_unavailable_page(submitted, "cannot store this")
        assert "cannot store this" in server.output()
        client.close()
    with server_process(url, LEDGER_PROJECT, log_path) as restarted:
        detail = httpx.get(f"{restarted.base_url}/api/sessions/{session_code}", timeout=60)
        stored = detail.json()["participants"][0]["vars"]
    assert acknowledged, "no vars post succeeded before the disk filled up"
    missing = [key for key, value in acknowledged.items() if stored.get(key) != value]
    assert not missing, f"acknowledged, then lost: {missing}; refusals: {refusals}"
    if submitted.status_code == 303:
        assert stored_entry(url, start) == 5
    assert all(
        "disk I/O error" in refusal or "database or disk is full" in refusal for refusal in refusals
    ), refusals


@pytest.mark.sqlite
def test_another_program_holding_sqlites_lock_makes_writes_fail_after_the_timeout(tmp_path):
    url = databases.database_url(tmp_path, "shell", databases.SQLITE)
    with running(url) as client:
        _session, code, page_url = on_first_page(client)
        with stuck_writer(databases.SQLITE, url, code, grove_lock=False):
            page, read_seconds = timed(client.get, page_url)
            assert page.status_code == 200
            assert read_seconds < 0.5
            submitted, write_seconds = timed(
                client.post, page_url, data=DEMOGRAPHICS, follow_redirects=False
            )
            assert_unavailable_page(submitted, "database is busy")
            assert submitted.headers["retry-after"] == "1"
            assert LOCK_TIMEOUT * 0.9 <= write_seconds < LOCK_TIMEOUT + 2.5
        assert client.post(page_url, data=DEMOGRAPHICS, follow_redirects=False).status_code == 303
    assert stored_age(url, code) == 30
