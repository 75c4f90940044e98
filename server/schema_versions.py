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

import ast
import functools
import logging
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa

from server.models import all as _registered_models  # noqa: F401  (registers every table)
from server.models.base import Base

if TYPE_CHECKING:
    # Alembic (about 0.1 s to import) is imported where a revision is run or a database
    # stamped with an old one; a start on a new or current database reads and writes
    # ``alembic_version`` itself.
    from alembic.config import Config
    from alembic.script import ScriptDirectory

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
    from alembic.config import Config

    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


@functools.cache
def script_directory() -> ScriptDirectory:
    """The revisions in ``server/migrations/versions`` (read once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


# A revision file's ``revision = "0010"`` and ``down_revision: ... = "0009"`` lines.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.+)$", re.MULTILINE)


@functools.cache
def _revisions(migrations: Path) -> dict[str, tuple[str, ...]] | None:
    """Each revision in ``migrations/versions`` and the revisions it follows, read from the
    files' ``revision`` and ``down_revision`` lines without importing them (or Alembic);
    None if a file does not give them on one line each (Alembic reads them then)."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted((migrations / "versions").glob("*.py")):
        values: dict[str, object] = {}
        for name, text in _ASSIGNMENT.findall(path.read_text(encoding="utf-8")):
            try:
                values.setdefault(name, ast.literal_eval(text.strip()))
            except (ValueError, SyntaxError):
                return None
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str) or not isinstance(down, str | tuple | list | None):
            return None
        downs = [down] if isinstance(down, str) else list(down or ())
        found[revision] = tuple(str(d) for d in downs)
    return found


def _known_revisions() -> set[str]:
    revisions = _revisions(MIGRATIONS)
    if revisions is None:
        return {script.revision for script in script_directory().walk_revisions()}
    return set(revisions)


def head_revision() -> str:
    """This Grove's newest revision of its own tables: the one no other follows (Alembic's
    own answer when the files do not give exactly one)."""
    revisions = _revisions(MIGRATIONS) or {}
    followed = {down for downs in revisions.values() for down in downs}
    heads = [revision for revision in revisions if revision not in followed]
    if len(heads) == 1:
        return heads[0]
    head = script_directory().get_current_head()
    assert head is not None, "server/migrations/versions has no revision"
    return head


def _version_table() -> sa.Table:
    """``alembic_version`` as Alembic makes it (``DefaultImpl.version_table_impl``)."""
    return sa.Table(
        VERSION_TABLE,
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )


def _stored_revisions(connection: sa.Connection) -> tuple[str, ...]:
    """The revisions ``alembic_version`` holds (none if it is absent), as Alembic's
    ``MigrationContext.get_current_heads`` reads them."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return ()
    table = _version_table()
    return tuple(connection.execute(sa.select(table.c.version_num)).scalars())


def _grove_tables_present(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names()) & set(Base.metadata.tables)


def version_state(connection: sa.Connection) -> VersionState:
    """Read where the database's Grove tables stand (see the module's docstring)."""
    head = head_revision()
    heads = _stored_revisions(connection)
    if not heads:
        kind: StateKind = "unversioned" if _grove_tables_present(connection) else "empty"
        return VersionState(kind, None, head)
    current = ", ".join(heads)
    if heads == (head,):
        return VersionState("current", current, head)
    known = _known_revisions()
    if any(revision not in known for revision in heads):
        return VersionState("unknown", current, head)
    return VersionState("behind", current, head)


def upgrade_to_head(connection: sa.Connection) -> None:
    """Run every revision between the stored one and the newest."""
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def stamp(connection: sa.Connection, revision: str) -> None:
    """Record ``revision`` (or ``"head"``) as the database's, running nothing."""
    from alembic.runtime.migration import MigrationContext

    MigrationContext.configure(connection).stamp(script_directory(), revision)


def stamp_new(connection: sa.Connection) -> None:
    """Record the newest revision in a database that holds none (new, or just emptied), as
    ``stamp(connection, "head")`` does there: ``alembic_version`` created if absent, one row."""
    if _stored_revisions(connection):
        stamp(connection, "head")
        return
    table = _version_table()
    table.create(connection, checkfirst=True)
    connection.execute(table.insert().values(version_num=head_revision()))


@functools.cache
def baseline_columns() -> dict[str, frozenset[str]]:
    """The tables and column names the first revision creates (what Grove made before
    migrations), read from a scratch in-memory database migrated to ``BASELINE``."""
    from alembic import command

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
    from alembic import command

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
