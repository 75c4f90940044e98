"""Bringing the database to what this Grove and the project's models need, before any request.

Two kinds of tables (README, "Migrations"):

* Grove's own (``grove_*``) are versioned by Alembic revisions (``server.schema_versions``).
  A new database is created at the newest revision, and one made by a Grove from before
  migrations is recognised and stamped. A database behind is upgraded only by
  ``python -m server migrate`` (which ``devserver`` runs for you); any other start refuses
  it, naming the command. A database from a newer Grove is refused.
* The per-app tables follow the project's models (``server.app_schema``): new tables and
  columns are added at every start; a widening needs ``migrate``; a dropped or retyped field
  needs ``migrate --allow-destructive`` (or ``resetdb``).

Everything happens in one transaction holding a lock (PostgreSQL: an advisory lock; SQLite:
the write lock of ``BEGIN IMMEDIATE``), so workers and hosts starting at once take turns and
a refused start changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from server import schema_versions
from server.app_schema import AppSchemaPlan, apply_plan, plan_app_tables
from server.cli.program import command_text
from server.db import Database
from server.errors import SchemaMismatch
from server.models.base import Base
from server.models.export_log import assign_identity
from server.project import Project

logger = logging.getLogger("grove")

# pg_advisory_xact_lock's key for "someone is changing Grove's schema" (any fixed number).
SCHEMA_LOCK_KEY = 4_207_151_515


def _lock_schema(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def _refuse_otree_database(connection: sa.Connection) -> None:
    """A database oTree made (the ``db.sqlite3`` an oTree project folder has once oTree ran in
    it) cannot be Grove's: say so, instead of listing each of its app tables' differences."""
    if sa.inspect(connection).has_table("otree_session"):
        raise SchemaMismatch(
            "The database was made by oTree (it has oTree's table otree_session); Grove cannot "
            "use oTree's database. Keep it for oTree and give Grove its own (for SQLite, move "
            f"db.sqlite3 aside, or set DATABASE_URL), or run `{command_text('resetdb')}` "
            "to delete all its data and recreate the tables."
        )


def _grove_tables(connection: sa.Connection, *, upgrade: bool) -> list[str]:
    """Bring Grove's own tables to the newest revision as far as allowed; what was done."""
    state = schema_versions.version_state(connection)
    head = state.head
    if state.kind == "empty":
        _refuse_otree_database(connection)
        # None of them is there (the state says so, under the schema lock): no has_table each.
        Base.metadata.create_all(connection, checkfirst=False)
        schema_versions.stamp_new(connection)
        assign_identity(connection)
        return [f"Grove's tables: created at revision {head}"]
    if state.kind == "unknown":
        raise SchemaMismatch(
            f"The database's Grove tables are at revision {state.current}, which this Grove "
            f"does not know (its newest is {head}): a newer Grove has migrated this database. "
            "Run that Grove, or restore a backup made before it ran."
        )
    done: list[str] = []
    if state.kind == "unversioned":
        differences = schema_versions.unversioned_differences(connection)
        if differences:
            raise SchemaMismatch(
                "The database was made by an early Grove whose tables differ from the first "
                f"versioned schema ({'; '.join(differences)}), and cannot be upgraded. Export "
                f"the data you need, then run `{command_text('resetdb')}` to delete all data and "
                "recreate the tables."
            )
        schema_versions.stamp(connection, schema_versions.BASELINE)
        done.append(
            "Grove's tables: made before migrations existed; recorded as revision "
            f"{schema_versions.BASELINE}"
        )
        state = schema_versions.version_state(connection)
    if state.kind == "behind":
        if not upgrade:
            raise SchemaMismatch(
                f"The database's Grove tables are at revision {state.current}; this Grove "
                f"needs {head}. Back up the database, then run `{command_text('migrate')}`."
            )
        schema_versions.upgrade_to_head(connection)
        done.append(f"Grove's tables: upgraded from revision {state.current} to {head}")
    return done


def _refusal(plan: AppSchemaPlan, *, widen: bool, destructive: bool) -> str | None:
    """The message for app-table differences this run may not apply (None: none left)."""
    if plan.foreign:
        return (
            "The database's app tables were not made by this Grove ("
            + "; ".join(plan.foreign)
            + f"). Run `{command_text('resetdb')}` to delete all data and recreate the tables."
        )
    if plan.destructive and not destructive:
        fields = "; ".join(change.describe() for change in plan.destructive)
        return (
            f"The database does not match your models: {fields}. Applying this deletes the "
            f"values of these fields. Run `{command_text('migrate')} --allow-destructive` to apply "
            f"it and keep all other data, or `{command_text('resetdb')}` to delete all data and "
            "recreate the tables."
        )
    if plan.widened and not widen:
        fields = "; ".join(change.describe() for change in plan.widened)
        return (
            f"The database stores some IntegerFields in 32 bits: {fields}. Run "
            f"`{command_text('migrate')}` to widen them to 64 bits (every value is kept)."
        )
    return None


def _sqlite_foreign_keys(connection: sa.Connection, on: bool) -> None:
    # Outside any transaction (SQLite ignores this PRAGMA inside one), on the driver's
    # connection, which runs it at once (Database leaves transactions to SQLAlchemy).
    driver = connection.connection.driver_connection
    assert driver is not None, "a live connection has a driver connection"
    driver.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


@contextmanager
def _schema_change(db: Database, *, upgrade: bool) -> Iterator[sa.Connection]:
    """One transaction under the schema lock. For ``migrate`` on SQLite, foreign keys are off
    while it runs, as SQLite's recipe for changing a table asks: a revision that copies a
    table others refer to (Alembic's batch mode) could not drop the old one otherwise; they
    are checked before the commit instead."""
    with db.engine.connect() as connection:
        relax = upgrade and connection.dialect.name == "sqlite"
        if relax:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                _lock_schema(connection)
                yield connection
                if relax:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise SchemaMismatch(
                            f"The migration would break {len(broken)} reference(s) between "
                            f"rows (first: {tuple(broken[0])}); nothing was changed."
                        )
        finally:
            if relax:
                _sqlite_foreign_keys(connection, on=True)


def _bring_up_to_date(
    db: Database, project: Project, *, upgrade: bool, allow_destructive: bool
) -> list[str]:
    with _schema_change(db, upgrade=upgrade) as connection:
        done = _grove_tables(connection, upgrade=upgrade)
        plan = plan_app_tables(connection, project.metadata)
        message = _refusal(plan, widen=upgrade, destructive=allow_destructive)
        if message is not None:
            raise SchemaMismatch(message)
        done += apply_plan(
            connection, project.metadata, plan, widen=upgrade, destructive=allow_destructive
        )
    return done


def prepare_database(db: Database, project: Project) -> list[str]:
    """The check at every start: create what is missing, refuse what needs a command.

    Creates a new database at the newest revision, stamps one from before migrations, adds
    new app tables and columns. Raises SchemaMismatch naming the command to run for a
    database behind (``migrate``), from a newer Grove, with 32-bit IntegerFields
    (``migrate``) or with dropped or retyped fields (``migrate --allow-destructive`` or
    ``resetdb``). Returns what it did, one line each (also logged).
    """
    done = _bring_up_to_date(db, project, upgrade=False, allow_destructive=False)
    for line in done:
        logger.info("database: %s", line)
    return done


def migrate_database(
    db: Database, project: Project, *, allow_destructive: bool = False
) -> list[str]:
    """``python -m server migrate``: upgrade Grove's tables to the newest revision, add new app
    tables and columns, widen 32-bit IntegerFields and, with ``allow_destructive``, drop or
    re-create changed fields. Returns what it did, one line each; raises SchemaMismatch for
    what it may not do (destructive changes without the flag, a newer Grove's database,
    foreign app tables), having changed nothing."""
    return _bring_up_to_date(db, project, upgrade=True, allow_destructive=allow_destructive)


def reset_database(db: Database, project: Project) -> None:
    """Drop every table (the project's and any left over) and create them anew, at the
    newest revision of Grove's tables, with a new identity (a cursor from before is another
    database's: ``server/change_sequence.py``)."""
    reflected = sa.MetaData()
    reflected.reflect(db.engine)
    reflected.drop_all(db.engine)
    with db.engine.begin() as connection:
        _lock_schema(connection)
        Base.metadata.create_all(connection)
        project.metadata.create_all(connection)
        schema_versions.stamp_new(connection)
        assign_identity(connection)
