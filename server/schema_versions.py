"""The version of Grove's own tables (``grove_*``): Alembic revisions in ``server/migrations``.

A database is in one of five states (``VersionState.kind``), read from Alembic's
``alembic_version`` table and the tables present:

* ``empty``: no Grove table yet. It is created at the newest revision (``create_all`` and a
  stamp, as Alembic's documentation recommends for a new database);
* ``unversioned``: Grove's tables without ``alembic_version``, made by a Grove from before
  migrations existed. If its tables and columns are those of the first revision (``BASELINE``)
  it is stamped with it; otherwise it cannot be upgraded and only ``resetdb`` helps;
* ``behind``: an older revision of this Grove; ``python -m server migrate`` upgrades it;
* ``current``: the newest revision;
* ``unknown``: a revision this Grove does not have: the database was migrated by a newer Grove.

Every function takes an open connection inside the caller's transaction and lock
(``server.schema``); nothing here commits.
"""

from __future__ import annotations

import functools
import logging
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from server.models import all as _registered_models  # noqa: F401  (registers every table)
from server.models.base import Base

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
VERSION_TABLE = "alembic_version"
# The revision that creates the tables every Grove before migrations made.
BASELINE = "0001"

StateKind = Literal["empty", "unversioned", "behind", "current", "unknown"]


@dataclass(frozen=True)
class VersionState:
    """Where a database's Grove tables stand: ``kind``, the stored revision(s) (None if there
    is none) and this Grove's newest revision ``head``."""

    kind: StateKind
    current: str | None
    head: str


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for Grove's migrations, in code (no ``alembic.ini``).

    Alembic's own INFO lines ("Context impl SQLiteImpl", once per check) are kept out of the
    server's log; Grove says what it did itself (``migrate`` prints each step)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


@functools.cache
def script_directory() -> ScriptDirectory:
    """The revisions in ``server/migrations/versions`` (read once per process)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """This Grove's newest revision of its own tables."""
    head = script_directory().get_current_head()
    assert head is not None, "server/migrations/versions has no revision"
    return head


def _grove_tables_present(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names()) & set(Base.metadata.tables)


def version_state(connection: sa.Connection) -> VersionState:
    """Read where the database's Grove tables stand (see the module's docstring)."""
    head = head_revision()
    heads = MigrationContext.configure(connection).get_current_heads()
    if not heads:
        kind: StateKind = "unversioned" if _grove_tables_present(connection) else "empty"
        return VersionState(kind, None, head)
    current = ", ".join(heads)
    if heads == (head,):
        return VersionState("current", current, head)
    known = {script.revision for script in script_directory().walk_revisions()}
    if any(revision not in known for revision in heads):
        return VersionState("unknown", current, head)
    return VersionState("behind", current, head)


def upgrade_to_head(connection: sa.Connection) -> None:
    """Run every revision between the stored one and the newest."""
    command.upgrade(alembic_config(connection), "head")


def stamp(connection: sa.Connection, revision: str) -> None:
    """Record ``revision`` (or ``"head"``) as the database's, running nothing."""
    MigrationContext.configure(connection).stamp(script_directory(), revision)


@functools.cache
def baseline_columns() -> dict[str, frozenset[str]]:
    """The tables and column names the first revision creates (what Grove made before
    migrations), read from a scratch in-memory database migrated to ``BASELINE``."""
    engine = sa.create_engine("sqlite://")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), BASELINE)
            inspector = sa.inspect(connection)
            return {
                name: frozenset(column["name"] for column in inspector.get_columns(name))
                for name in inspector.get_table_names()
                if name != VERSION_TABLE
            }
    finally:
        engine.dispose()


def unversioned_differences(connection: sa.Connection) -> list[str]:
    """How an unversioned database's Grove tables differ from ``BASELINE``'s (empty: none)."""
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    baseline = baseline_columns()
    problems = [
        f"table {table} came after the first revision"
        for table in sorted(present & set(Base.metadata.tables) - set(baseline))
    ]
    for table, expected in sorted(baseline.items()):
        if table not in present:
            problems.append(f"table {table} is missing")
            continue
        found = {column["name"] for column in inspector.get_columns(table)}
        if found != expected:
            changed = sorted(expected ^ found)
            problems.append(f"table {table} differs in column(s) {', '.join(changed)}")
    return problems


def new_revision(message: str) -> Path:
    """Autogenerate the next revision from the models' difference to the newest revision,
    against a scratch SQLite database; returns the new file (a developer's tool)."""
    number = f"{len(list(script_directory().walk_revisions())) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = sa.create_engine(f"sqlite:///{scratch}/scratch.sqlite3")
        try:
            with engine.begin() as connection:
                config = alembic_config(connection)
                command.upgrade(config, "head")
                script = command.revision(config, message, autogenerate=True, rev_id=number)
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise RuntimeError("Alembic wrote no single revision")
    for ruff in (["check", "--fix", "--quiet"], ["format", "--quiet"]):  # the house style
        subprocess.run([sys.executable, "-m", "ruff", *ruff, script.path], check=False)
    return Path(script.path)


if __name__ == "__main__":  # python -m server.schema_versions revision "what changed"
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m server.schema_versions revision "what changed"')
    print(f"written: {new_revision(sys.argv[2])}")
