"""Incremental pulls whose cursor is not this database's: after ``resetdb``, from another
server, or ahead of this database (a backup restored). Each is refused with a 409 naming
``since`` on every export that takes a cursor, instead of an empty answer whose older
``next_since`` made the script skip every change numbered up to the old cursor; the cursors
this database handed out, in the old form (``c<number>``) too, keep working."""

from __future__ import annotations

import re
import shutil
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.__main__ import main
from server.app import create_app
from server.db import Database
from server.project import load_project
from server.schema import migrate_database
from server.schema_versions import head_revision
from tests import databases
from tests.admin_pages import log_in
from tests.conftest import REPO_ROOT
from tests.rest_helpers import HEADERS, REST_KEY, assert_error_shape
from tests.test_export import play

PASSWORD = "cursor-s3cret"
WIDE = "/api/export/all_apps_wide"


def started(settings: Any) -> tuple[Any, TestClient]:
    """The app on ``settings`` (with the REST key and an admin password) and a client of it
    with the lifespan running; stop it with ``stop``."""
    app = create_app(settings.with_changes(rest_key=REST_KEY, admin_password=PASSWORD))
    client = TestClient(app)
    client.__enter__()
    client.headers.update(HEADERS)
    return app, client


def stop(app: Any, client: TestClient) -> None:
    client.__exit__(None, None, None)
    app.state.grove.db.dispose()


def pull(client: TestClient, since: str | None = None) -> dict[str, Any]:
    """One incremental pull of the wide table as JSON (200 expected)."""
    params = {"format": "json"} if since is None else {"format": "json", "since": since}
    response = client.get(WIDE, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["next_since"] == response.headers["grove-next-since"]
    return body


def assert_refused(response: Any) -> dict[str, Any]:
    """A 409 naming ``since`` that tells the script to pull without it."""
    body = assert_error_shape(response, 409)
    assert body["errors"][0]["field"] == "since"
    assert "pull again without since" in body["error"]
    return body


def old_form(cursor: str) -> str:
    """The cursor as a Grove before database identities wrote it: ``c<number>``."""
    match = re.fullmatch(r"(c\d+)-[0-9a-f]+", cursor)
    assert match, cursor
    return match.group(1)


def test_a_cursor_from_before_resetdb_is_refused_not_answered_empty(settings, monkeypatch):
    app, client = started(settings)
    play(settings, "trust")
    play(settings, "trust")
    cursor = pull(client)["next_since"]
    stop(app, client)

    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.delenv("GROVE_PROJECT_ROOT", raising=False)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["resetdb", "--noinput"]) == 0

    app, client = started(settings)
    try:
        [new_code] = play(settings, "trust")
        body = assert_refused(client.get(WIDE, params={"since": cursor}))
        assert "another database" in body["error"]
        # Starting over: the whole new table, and its cursor works.
        everything = pull(client)
        assert {row["session.code"] for row in everything["rows"]} == {new_code}
        assert pull(client, everything["next_since"])["rows"] == []
    finally:
        stop(app, client)


def test_every_export_that_takes_since_refuses_another_servers_cursor(settings, tmp_path):
    other_settings = settings.with_changes(
        database_url=databases.database_url(tmp_path, "other_server")
    )
    other_app, other = started(other_settings)
    foreign = pull(other)["next_since"]
    stop(other_app, other)

    app, client = started(settings)
    try:
        body = {"session_config_name": "trust", "num_participants": 2}
        created = client.post("/api/sessions", json=body)
        assert created.status_code in (200, 201), created.text
        code = created.json()["code"]
        ours = pull(client)["next_since"]
        assert ours != foreign
        admin_api = "/admin/api/v1/session/" + code
        bearer = {"Authorization": f"Bearer {REST_KEY}"}
        paths = [
            "/api/export/all_apps_wide",
            "/api/export/all_apps_wide?format=json",
            "/api/export/trust",
            "/api/export/trust/custom_export",
            "/api/export/page_times",
            f"/api/export/all_apps_wide?session={code}",
            f"/api/sessions/{code}/data",
            f"{admin_api}/data/",
            f"{admin_api}/data/csv/",
            f"{admin_api}/data/json/",
            f"{admin_api}/data/csv/?table=trust",
            f"{admin_api}/page-times/",
        ]
        for path in paths:
            joiner = "&" if "?" in path else "?"
            assert client.get(f"{path}{joiner}since={ours}", headers=bearer).status_code == 200
            assert_refused(client.get(f"{path}{joiner}since={foreign}", headers=bearer))
        # The admin's download page answers a person: an HTML page with the same reason.
        log_in(client, PASSWORD)
        assert client.get(f"/export/all_apps_wide?since={ours}").status_code == 200
        page = client.get(f"/export/all_apps_wide?since={foreign}")
        assert page.status_code == 409
        assert "pull again without since" in page.text
    finally:
        stop(app, client)


def test_a_cursor_ahead_of_this_database_is_refused(settings):
    app, client = started(settings)
    try:
        play(settings, "trust")
        cursor = pull(client)["next_since"]
        number, identity = cursor[1:].split("-")
        for ahead in (f"c{int(number) + 10**9}-{identity}", f"c{int(number) + 10**9}"):
            body = assert_refused(client.get(WIDE, params={"since": ahead}))
            assert "ahead of this database" in body["error"]
        # The largest number a cursor can hold, on a database that has no change yet.
        assert_refused(client.get(WIDE, params={"since": "c9223372036854775807"}))
    finally:
        stop(app, client)


def test_cursors_of_this_database_in_the_old_form_keep_working(settings):
    """A script that ran through the upgrade holds a ``c<number>`` cursor: it gets the same
    changes as the new form of that cursor, and a new-form cursor to go on with."""
    app, client = started(settings)
    try:
        play(settings, "trust")
        cursor = pull(client)["next_since"]
        assert pull(client, old_form(cursor))["rows"] == []
        surveys = set(play(settings, "survey"))
        new_form = pull(client, cursor)
        legacy = pull(client, old_form(cursor))
        assert {row["session.code"] for row in legacy["rows"]} == surveys
        assert legacy["rows"] == new_form["rows"]
        assert re.fullmatch(r"c\d+-[0-9a-f]{16}", legacy["next_since"])
        assert pull(client, "c0")["rows"]  # before any change: everything
    finally:
        stop(app, client)


@pytest.mark.sqlite
def test_a_cursor_from_after_the_backup_a_database_was_restored_from_is_refused(settings, tmp_path):
    """A backup of this database has its identity but not its later changes: a cursor pulled
    after the backup is ahead of the restored database until it has handed out those numbers
    again (then nothing can tell, README says so)."""
    app, client = started(settings)
    play(settings, "trust")
    path = databases.sqlite_file(settings.database_url)
    backup = databases.sqlite_file(databases.database_url(tmp_path, "backup", databases.SQLITE))
    source, copy = sqlite3.connect(path), sqlite3.connect(backup)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    play(settings, "trust")
    cursor = pull(client)["next_since"]
    stop(app, client)

    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, path)
    app, client = started(settings)
    try:
        body = assert_refused(client.get(WIDE, params={"since": cursor}))
        assert "ahead of this database" in body["error"]
        assert len(pull(client)["rows"]) == 2
    finally:
        stop(app, client)


def test_a_database_migrated_to_identities_keeps_the_cursors_it_handed_out(settings):
    """A database made before identities (revision 0013) gets one from ``migrate``; the
    ``c<number>`` cursor a script held through the upgrade goes on working."""
    app, client = started(settings)
    try:
        play(settings, "trust")
        held = old_form(pull(client)["next_since"])  # what the older Grove answered
    finally:
        stop(app, client)
    engine = databases.engine(settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE grove_database_identity"))
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '0013'"))
    finally:
        engine.dispose()
    db = Database(settings.database_url)
    try:
        done = migrate_database(db, load_project(settings))
    finally:
        db.dispose()
    assert done == [f"Grove's tables: upgraded from revision 0013 to {head_revision()}"]

    app, client = started(settings)
    try:
        unchanged = pull(client, held)
        assert unchanged["rows"] == []
        assert re.fullmatch(r"c\d+-[0-9a-f]{16}", unchanged["next_since"])
        surveys = set(play(settings, "survey"))
        assert {row["session.code"] for row in pull(client, held)["rows"]} == surveys
        assert pull(client, unchanged["next_since"])["rows"] == pull(client, held)["rows"]
    finally:
        stop(app, client)


def test_a_session_created_after_a_pull_is_in_the_next_pull(settings):
    """Its participants are new rows of the wide table even before anyone starts: a script
    that only pulls changes must get them, as a full pull does (one who never starts would
    otherwise be missing from its table for good)."""
    app, client = started(settings)
    try:
        cursor = pull(client)["next_since"]
        body = {"session_config_name": "trust", "num_participants": 2}
        created = client.post("/api/sessions", json=body)
        assert created.status_code in (200, 201), created.text
        code = created.json()["code"]
        changed = pull(client, cursor)
        assert [row["session.code"] for row in changed["rows"]] == [code, code]
        assert changed["next_since"] != cursor
        assert pull(client, changed["next_since"])["rows"] == []
    finally:
        stop(app, client)
