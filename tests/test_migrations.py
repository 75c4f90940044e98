"""Schema migrations: Grove's own tables by Alembic revision, the app tables by the models.

A test project (one app, ``diary``) is written to a folder per version of its models; two
versions in two folders share one database, as a project edited between two starts would.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from starlette.testclient import TestClient

from server import schema_versions
from server.app import create_app
from server.app_schema import AppSchemaPlan, plan_app_tables
from server.config import Settings, load_settings
from server.db import Database
from server.errors import SchemaMismatch
from server.models.base import Base
from server.project import load_project
from server.schema import migrate_database, prepare_database, reset_database
from tests import databases
from tests.conftest import REPO_ROOT, create_demo_session
from tests.form_filling import fill_and_submit

APP = """\
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "diary"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
{fields}


class Entry(Page):
    form_model = "player"
    form_fields = {names!r}


class Done(Page):
    @staticmethod
    def vars_for_template(player):
        # An old row's new field is None: read as oTree allows it (field_maybe_none).
        return dict(
            values=" ".join(f"{{name}}={{player.field_maybe_none(name)}}" for name in {names!r})
        )


page_sequence = [Entry, Done]
"""


def write_project(root: Path, **fields: str) -> Path:
    """A project whose ``diary`` Player declares ``fields`` (name -> ``models.X(...)``); its
    Done page shows each field as ``name=value`` (None for one never set)."""
    app = root / "apps" / "diary"
    app.mkdir(parents=True, exist_ok=True)
    (root / "settings.py").write_text('SECRET_KEY = "migrations-test"\n')
    (root / "session_configs.py").write_text(
        'SESSION_CONFIGS = [dict(name="diary", app_sequence=["diary"], num_demo_participants=1)]\n'
    )
    declared = "\n".join(f"    {name} = {field}" for name, field in fields.items())
    (app / "__init__.py").write_text(APP.format(fields=declared, names=list(fields)))
    (app / "Entry.html").write_text(
        "{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}\n"
    )
    (app / "Done.html").write_text(
        '{{ block content }}<p id="values">{{ values }}</p>{{ endblock }}\n'
    )
    return root


def settings_for(root: Path, url: str) -> Settings:
    return load_settings(root, {"DATABASE_URL": url})


def play_entry(client: TestClient, values: dict[str, str]) -> str:
    """Start a demo participant, submit the Entry page; return the Done page's URL."""
    _code, [link] = create_demo_session(client, "diary")
    entry_url = client.get(link, follow_redirects=False).headers["location"]
    submitted = fill_and_submit(client, entry_url, values)
    assert submitted.status_code == 303, submitted.text
    return submitted.headers["location"]


def values_shown(client: TestClient, done_url: str) -> str:
    page = client.get(done_url)
    assert page.status_code == 200, page.text
    return page.text.split('<p id="values">', 1)[1].split("</p>", 1)[0]


def columns(url: str, table: str) -> dict[str, str]:
    engine = databases.engine(url)
    try:
        return {
            column["name"]: str(column["type"]) for column in sa.inspect(engine).get_columns(table)
        }
    finally:
        engine.dispose()


def stored_revision(url: str) -> list[str]:
    engine = databases.engine(url)
    try:
        with engine.connect() as connection:
            return list(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = databases.engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def started(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def stop(client: TestClient) -> None:
    client.app.state.grove.db.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return databases.database_url(tmp_path, "migrations")


def test_a_new_field_is_added_at_start_keeping_old_rows(tmp_path, url):
    v1 = write_project(tmp_path / "v1", mood="models.StringField()")
    client = started(settings_for(v1, url))
    with client:
        old_done = play_entry(client, {"mood": "calm"})
        assert values_shown(client, old_done) == "mood=calm"
    stop(client)

    v2 = write_project(
        tmp_path / "v2", mood="models.StringField()", sleep_hours="models.IntegerField()"
    )
    client = started(settings_for(v2, url))
    with client:
        # The participant who played before the field existed: their answer is kept, the new
        # field reads None (as a new oTree field would).
        assert values_shown(client, old_done) == "mood=calm sleep_hours=None"
        new_done = play_entry(client, {"mood": "tired", "sleep_hours": "3000000000"})
        assert values_shown(client, new_done) == "mood=tired sleep_hours=3000000000"
    stop(client)
    assert "sleep_hours" in columns(url, "diary_player")
    assert stored_revision(url) == [schema_versions.head_revision()]


def test_a_new_app_gets_its_tables_at_start(tmp_path, url):
    v1 = write_project(tmp_path / "v1", mood="models.StringField()")
    stop(started(settings_for(v1, url)))
    execute(url, "DROP TABLE diary_player", "DROP TABLE diary_group", "DROP TABLE diary_subsession")
    client = started(settings_for(v1, url))
    with client:
        assert values_shown(client, play_entry(client, {"mood": "new"})) == "mood=new"
    stop(client)


def test_a_removed_field_is_refused_until_migrate_allows_it(tmp_path, url):
    both = {"mood": "models.StringField()", "sleep_hours": "models.IntegerField()"}
    v1 = write_project(tmp_path / "v1", **both)
    client = started(settings_for(v1, url))
    with client:
        old_done = play_entry(client, {"mood": "calm", "sleep_hours": "8"})
    stop(client)

    v2_settings = settings_for(write_project(tmp_path / "v2", mood="models.StringField()"), url)
    with pytest.raises(SchemaMismatch) as refused:
        create_app(v2_settings)
    message = str(refused.value)
    assert "app diary, Player.sleep_hours" in message
    assert "python -m server migrate --allow-destructive" in message
    assert "python -m server resetdb" in message
    assert "sleep_hours" in columns(url, "diary_player")  # a refused start changes nothing

    project = load_project(v2_settings)
    db = Database(url)
    try:
        with pytest.raises(SchemaMismatch, match="allow-destructive"):
            migrate_database(db, project)
        done = migrate_database(db, project, allow_destructive=True)
    finally:
        db.dispose()
    assert done == [
        "app diary, Player.sleep_hours: dropped column diary_player.sleep_hours and its values"
    ]
    assert "sleep_hours" not in columns(url, "diary_player")
    client = started(v2_settings)
    with client:
        assert values_shown(client, old_done) == "mood=calm"
    stop(client)


def test_a_retyped_field_is_refused_and_recreated_empty_on_request(tmp_path, url):
    v1 = write_project(tmp_path / "v1", mood="models.StringField()")
    client = started(settings_for(v1, url))
    with client:
        old_done = play_entry(client, {"mood": "7"})
    stop(client)

    v2_settings = settings_for(write_project(tmp_path / "v2", mood="models.IntegerField()"), url)
    with pytest.raises(SchemaMismatch) as refused:
        create_app(v2_settings)
    integer = "BIGINT" if "postgresql" in url else "INTEGER"
    assert f"column diary_player.mood is TEXT in the database, {integer} in the models" in str(
        refused.value
    )
    db = Database(url)
    try:
        migrate_database(db, load_project(v2_settings), allow_destructive=True)
    finally:
        db.dispose()
    assert columns(url, "diary_player")["mood"] == integer
    client = started(v2_settings)
    with client:
        assert values_shown(client, old_done) == "mood=None"
        assert values_shown(client, play_entry(client, {"mood": "5"})) == "mood=5"
    stop(client)


@pytest.mark.slow
@pytest.mark.postgres
def test_32_bit_integer_fields_are_widened_by_migrate(tmp_path, postgres_url):
    """A PostgreSQL database from before IntegerFields were BIGINT: start names the fields,
    migrate widens them keeping their values."""
    project_root = write_project(tmp_path / "p", sleep_hours="models.IntegerField()")
    settings = settings_for(project_root, postgres_url)
    client = started(settings)
    with client:
        done_url = play_entry(client, {"sleep_hours": "8"})
    stop(client)
    execute(postgres_url, "ALTER TABLE diary_player ALTER COLUMN sleep_hours TYPE INTEGER")

    with pytest.raises(SchemaMismatch) as refused:
        create_app(settings)
    assert "app diary, Player.sleep_hours" in str(refused.value)
    assert "is INTEGER in the database, BIGINT in the models" in str(refused.value)
    assert "Run `python -m server migrate` to widen them" in str(refused.value)

    db = Database(postgres_url)
    try:
        [widened] = migrate_database(db, load_project(settings))
    finally:
        db.dispose()
    assert "widened diary_player.sleep_hours from INTEGER to BIGINT" in widened
    client = started(settings)
    with client:
        assert values_shown(client, done_url) == "sleep_hours=8"
        assert values_shown(client, play_entry(client, {"sleep_hours": "3000000000"})) == (
            "sleep_hours=3000000000"
        )
    stop(client)


def test_a_database_from_before_migrations_is_recognised(tmp_path, url):
    settings = settings_for(write_project(tmp_path / "p", mood="models.StringField()"), url)
    client = started(settings)
    with client:
        done_url = play_entry(client, {"mood": "calm"})
    stop(client)
    # What a Grove from before migrations left: the first revision's tables, no version.
    engine = databases.engine(url)
    with engine.begin() as connection:
        command.downgrade(schema_versions.alembic_config(connection), schema_versions.BASELINE)
        connection.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()

    head, baseline = schema_versions.head_revision(), schema_versions.BASELINE
    recorded = f"Grove's tables: made before migrations existed; recorded as revision {baseline}"
    if head == baseline:
        stop(started(settings))
    else:
        with pytest.raises(SchemaMismatch, match=f"at revision {baseline}; this Grove needs"):
            create_app(settings)
        assert stored_revision(url) == []  # a refused start records nothing
        db = Database(url)
        try:
            done = migrate_database(db, load_project(settings))
        finally:
            db.dispose()
        assert done == [recorded, f"Grove's tables: upgraded from revision {baseline} to {head}"]
    assert stored_revision(url) == [head]
    client = started(settings)
    with client:
        assert values_shown(client, done_url) == "mood=calm"
    stop(client)


def test_a_versionless_database_with_later_tables_is_refused(tmp_path, url):
    """Grove's tables of a later revision but no version (alembic_version dropped by hand):
    stamping the first revision would make migrate fail on tables that exist."""
    settings = settings_for(write_project(tmp_path / "p", mood="models.StringField()"), url)
    stop(started(settings))
    if schema_versions.head_revision() == schema_versions.BASELINE:
        pytest.skip("no revision after the first yet")
    execute(url, "DROP TABLE alembic_version")
    with pytest.raises(SchemaMismatch, match=r"came after the first revision.*resetdb"):
        create_app(settings)


def test_an_early_database_that_differs_from_the_baseline_is_refused(tmp_path, url):
    settings = settings_for(write_project(tmp_path / "p", mood="models.StringField()"), url)
    stop(started(settings))
    execute(
        url, "DROP TABLE alembic_version", "ALTER TABLE grove_participant DROP COLUMN last_seen"
    )
    with pytest.raises(
        SchemaMismatch, match=r"grove_participant differs in column\(s\) [^;]*last_seen"
    ):
        create_app(settings)


def _with_a_newer_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make this process's Grove one revision ahead: a copy of the migrations plus a revision
    that adds a table and changes a column of grove_session, which other tables refer to (on
    SQLite, Alembic copies such a table). Returns the new head."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema_versions.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    head = schema_versions.head_revision()
    (copy / "versions" / "9000_test.py").write_text(
        textwrap.dedent(f'''\
            """A revision only this test has."""
            import sqlalchemy as sa
            from alembic import op

            revision = "9000"
            down_revision = "{head}"
            branch_labels = None
            depends_on = None


            def upgrade() -> None:
                op.create_table("grove_test_extra", sa.Column("id", sa.Integer, primary_key=True))
                with op.batch_alter_table("grove_session") as batch:
                    batch.alter_column(
                        "label", existing_type=sa.String(255), type_=sa.String(300)
                    )


            def downgrade() -> None:
                op.drop_table("grove_test_extra")
            ''')
    )
    monkeypatch.setattr(schema_versions, "MIGRATIONS", copy)
    schema_versions.script_directory.cache_clear()
    return "9000"


@pytest.fixture
def _fresh_script_directory():
    yield
    schema_versions.script_directory.cache_clear()


@pytest.mark.usefixtures("_fresh_script_directory")
def test_a_database_behind_head_is_refused_until_migrated(tmp_path, url, monkeypatch):
    settings = settings_for(write_project(tmp_path / "p", mood="models.StringField()"), url)
    client = started(settings)
    with client:
        done_url = play_entry(client, {"mood": "calm"})
    stop(client)
    old_head = schema_versions.head_revision()

    new_head = _with_a_newer_revision(tmp_path, monkeypatch)
    with pytest.raises(SchemaMismatch) as refused:
        create_app(settings)
    assert str(refused.value) == (
        f"The database's Grove tables are at revision {old_head}; this Grove needs {new_head}. "
        "Back up the database, then run `python -m server migrate`."
    )
    db = Database(url)
    try:
        done = migrate_database(db, load_project(settings))
    finally:
        db.dispose()
    assert done == [f"Grove's tables: upgraded from revision {old_head} to {new_head}"]
    assert stored_revision(url) == [new_head]
    client = started(settings)
    with client:
        assert values_shown(client, done_url) == "mood=calm"
    stop(client)


def test_a_database_from_a_newer_grove_is_refused(tmp_path, url):
    settings = settings_for(write_project(tmp_path / "p", mood="models.StringField()"), url)
    stop(started(settings))
    execute(url, "UPDATE alembic_version SET version_num = 'f00dcafe'")
    with pytest.raises(SchemaMismatch, match="revision f00dcafe, which this Grove does not know"):
        create_app(settings)


def test_the_models_and_the_newest_revision_agree(url, settings):
    """Fails when a Grove table changed in server/models without a revision (see
    server/migrations/__init__.py for how to write one). Both ways to a new database, through
    every revision and the start's create-and-stamp, must give the models' tables."""
    migrated = Database(url)
    created = Database(settings.database_url)
    try:
        with migrated.engine.begin() as connection:
            schema_versions.upgrade_to_head(connection)
        project = load_project(settings)
        prepare_database(created, project)
        with created.engine.connect() as connection:
            # Every field type of the sample apps reads back as the type its models declare.
            assert plan_app_tables(connection, project.metadata) == AppSchemaPlan()
        for db in (migrated, created):
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection,
                    opts={
                        "compare_type": True,
                        "include_name": lambda name, type_, _parents: (
                            type_ != "table" or name in Base.metadata.tables
                        ),
                    },
                )
                assert compare_metadata(context, Base.metadata) == []
    finally:
        migrated.dispose()
        created.dispose()


def test_workers_starting_at_once_on_an_empty_database_create_it_once(tmp_path, url):
    project = load_project(
        settings_for(write_project(tmp_path / "p", mood="models.StringField()"), url)
    )
    workers = [Database(url) for _ in range(3)]
    try:
        with concurrent.futures.ThreadPoolExecutor(len(workers)) as pool:
            results = list(pool.map(lambda db: prepare_database(db, project), workers))
    finally:
        for db in workers:
            db.dispose()
    first, *others = sorted(results, key=len, reverse=True)
    assert first[0] == f"Grove's tables: created at revision {schema_versions.head_revision()}"
    assert others == [[], []]
    assert stored_revision(url) == [schema_versions.head_revision()]


def test_resetdb_leaves_a_database_at_the_newest_revision(tmp_path, url):
    """Without the version, the next start would take the fresh tables for an early Grove's."""
    settings = settings_for(write_project(tmp_path / "p", mood="models.StringField()"), url)
    client = started(settings)
    with client:
        play_entry(client, {"mood": "calm"})
    stop(client)
    db = Database(url)
    try:
        reset_database(db, load_project(settings))
    finally:
        db.dispose()
    assert stored_revision(url) == [schema_versions.head_revision()]
    client = started(settings)
    with client:
        assert values_shown(client, play_entry(client, {"mood": "new"})) == "mood=new"
        with client.app.state.grove.db.read() as session:  # type: ignore[attr-defined]
            assert session.execute(sa.text("SELECT count(*) FROM diary_player")).scalar() == 1
    stop(client)


def _cli(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("GROVE_PROJECT_ROOT", None)
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # three subprocesses, each loading Grove: seconds
def test_migrate_command_in_a_project_folder(tmp_path, url):
    root = write_project(
        tmp_path / "study", mood="models.StringField()", sleep_hours="models.IntegerField()"
    )
    created = _cli(root, url, "migrate")
    assert created.returncode == 0, created.stderr
    head = schema_versions.head_revision()
    assert f"Grove's tables: created at revision {head}" in created.stdout
    assert "created table diary_player" in created.stdout

    write_project(root, mood="models.StringField()")
    refused = _cli(root, url, "migrate")
    assert refused.returncode == 1
    assert "app diary, Player.sleep_hours" in refused.stderr
    assert "--allow-destructive" in refused.stderr
    assert "sleep_hours" in columns(url, "diary_player")

    applied = _cli(root, url, "migrate", "--allow-destructive")
    assert applied.returncode == 0, applied.stderr
    assert "dropped column diary_player.sleep_hours" in applied.stdout
    assert f"Grove's tables at revision {head}" in applied.stdout
    assert "sleep_hours" not in columns(url, "diary_player")


@pytest.mark.usefixtures("_fresh_script_directory")
def test_devserver_migrates_first_but_not_in_production(tmp_path, url, monkeypatch, capsys):
    """devserver upgrades Grove's tables itself (a developer's convenience); with
    OTREE_PRODUCTION set it refuses like every other start."""
    import argparse

    from server.cli import server_commands

    root = write_project(tmp_path / "p", mood="models.StringField()")
    stop(started(settings_for(root, url)))
    new_head = _with_a_newer_revision(tmp_path, monkeypatch)
    served: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: served.append(kw))
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("OTREE_PRODUCTION", "1")
    monkeypatch.setenv("OTREE_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("OTREE_ADMIN_PASSWORD", "a-password")
    args = argparse.Namespace(port=8000, host="127.0.0.1", reload=False)

    with pytest.raises(SchemaMismatch, match="run `python -m server migrate`"):
        server_commands.devserver(args)
    assert not served
    assert stored_revision(url) != [new_head]

    monkeypatch.delenv("OTREE_PRODUCTION")
    assert server_commands.devserver(args) == 0
    assert len(served) == 1
    assert "Grove's tables: upgraded from revision" in capsys.readouterr().out
    assert stored_revision(url) == [new_head]


def test_a_database_made_by_otree_is_refused_as_otrees(tmp_path, url):
    """The SQLite file oTree leaves in a project folder has oTree's tables (otree_session and
    app tables of oTree's shape): the refusal says it is oTree's, and changes nothing."""
    settings = settings_for(write_project(tmp_path / "p", mood="models.StringField()"), url)
    execute(
        url,
        "CREATE TABLE otree_session (id INTEGER PRIMARY KEY, code VARCHAR(16))",
        "CREATE TABLE diary_player (id INTEGER PRIMARY KEY, round_number INTEGER)",
    )
    with pytest.raises(SchemaMismatch, match=r"made by oTree .*`python -m server resetdb`"):
        create_app(settings)
    assert stored_revision(url) == []
    engine = databases.engine(url)
    try:
        assert not sa.inspect(engine).has_table("grove_session")
    finally:
        engine.dispose()


def test_refusals_name_the_command_the_user_runs(tmp_path, url, monkeypatch):
    """Run as the installed ``otree`` (or ``grove``) command, whose environment may have no
    ``python`` that imports Grove, a refusal names ``otree migrate``/``otree resetdb``."""
    both = {"mood": "models.StringField()", "sleep_hours": "models.IntegerField()"}
    stop(started(settings_for(write_project(tmp_path / "v1", **both), url)))
    v2_settings = settings_for(write_project(tmp_path / "v2", mood="models.StringField()"), url)
    for program, words in (("/home/lab/grove/bin/otree", "otree"), ("grove", "grove")):
        monkeypatch.setattr("sys.argv", [program, "prodserver"])
        with pytest.raises(SchemaMismatch) as refused:
            create_app(v2_settings)
        message = str(refused.value)
        assert f"`{words} migrate --allow-destructive`" in message
        assert f"`{words} resetdb`" in message
        assert "python -m server" not in message
