"""The per-app tables follow the project's models: what changed, and applying it.

The project (``apps/<name>/__init__.py``) may live outside the repository, so its tables are
not versioned by revisions: at every start Grove compares each app's ``<app>_subsession``,
``<app>_group`` and ``<app>_player`` (and one table per ExtraModel, ``<app>_<model>``, whose
links count as fields) in the database with the models (column names, types as
this database stores them, nullability), comparing types as Alembic's autogenerate does.

* A new app's tables and a new field's column are added at start (existing rows hold NULL,
  read as None, as a new oTree field would);
* an IntegerField column that is still a 32-bit INTEGER on PostgreSQL (made before fields were
  BIGINT) is *widened*: safe, keeps every value; ``python -m server migrate`` does it;
* a field the models no longer declare (*dropped*; a renamed field is one dropped and one
  added) or whose column has another type or nullability (*retyped*) is destructive: its
  values would be lost. Only ``python -m server migrate --allow-destructive`` applies it
  (drops the column, or drops and re-creates it empty), keeping every other column and row;
* Grove's own columns of these tables (``id``, ``session_id``, ``round_number``...) differing
  means the table was made by something else: only ``resetdb`` helps.

Tables of apps the project no longer lists are left alone, data and all.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from server.models.base import Base

if TYPE_CHECKING:  # Alembic is imported only when a column changes (apply_plan)
    from alembic.operations import Operations

ChangeKind = Literal["added", "widened", "dropped", "retyped"]
# An IntegerField's column stored as a 32-bit INTEGER where the models want BIGINT.
WIDENINGS = {("INTEGER", "BIGINT")}  # (fields are always nullable)
MODEL_OF_SUFFIX = {"subsession": "Subsession", "group": "Group", "player": "Player"}


@dataclass(frozen=True)
class ColumnChange:
    """One column of an app table that differs from the models.

    ``kind`` is ``added`` (in the models only), ``widened`` (INTEGER to BIGINT on
    PostgreSQL), ``dropped`` (in the database only) or ``retyped``; ``was`` and ``wanted``
    are the SQL types (with ``NOT NULL`` where that differs) in the database and the models.
    """

    table: str
    column: str
    kind: ChangeKind
    was: str = ""
    wanted: str = ""
    model: str = ""  # an ExtraModel's class name (its table's name is in lower case)

    @property
    def where(self) -> str:
        """The field as the experimenter wrote it: ``app survey, Player.age``."""
        app, _, suffix = self.table.rpartition("_")
        if self.model:
            app = self.table[: -len(self.model) - 1]
        return f"app {app}, {self.model or MODEL_OF_SUFFIX.get(suffix, suffix)}.{self.column}"

    def describe(self) -> str:
        """What differs, for a message."""
        column = f"column {self.table}.{self.column}"
        if self.kind == "added":
            return f"{self.where}: a new field ({column} to be added)"
        if self.kind == "dropped":
            return f"{self.where}: a field the models no longer declare ({column} holds its data)"
        change = "to be widened" if self.kind == "widened" else "retyped"
        return (
            f"{self.where}: {column} is {self.was} in the database, "
            f"{self.wanted} in the models ({change})"
        )


@dataclass
class AppSchemaPlan:
    """How the database's app tables differ from the project's models.

    ``new_tables`` are created and ``added`` columns added at every start; ``widened`` needs
    ``migrate``; ``destructive`` (dropped and retyped fields) needs
    ``migrate --allow-destructive``; ``foreign`` lists differences in Grove's own columns of
    app tables, which only ``resetdb`` repairs.
    """

    new_tables: list[sa.Table] = field(default_factory=list)
    added: list[ColumnChange] = field(default_factory=list)
    widened: list[ColumnChange] = field(default_factory=list)
    destructive: list[ColumnChange] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)


def app_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The project's per-app tables (every table of ``metadata`` that is not Grove's own)."""
    return {name: t for name, t in metadata.tables.items() if name not in Base.metadata.tables}


def _type_text(type_: Any, dialect: sa.Dialect, nullable: bool | None) -> str:
    text = str(type_.compile(dialect=dialect))
    return text if nullable is not False else f"{text} NOT NULL"


def plan_app_tables(connection: sa.Connection, metadata: sa.MetaData) -> AppSchemaPlan:
    """Compare the database's app tables with the models of ``metadata`` (nothing written).

    Types are compared as Alembic's autogenerate compares them (``compare_type`` of its
    dialect implementation), nullability as reflected.
    """
    tables = app_tables(metadata)
    key = _sqlite_schema_key(connection, tables)
    if key is not None and key in _UP_TO_DATE_ON_SQLITE:
        _UP_TO_DATE_ON_SQLITE.move_to_end(key)
        return AppSchemaPlan()
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    plan = AppSchemaPlan(new_tables=[t for n, t in tables.items() if n not in present])
    existing = [name for name in tables if name in present]
    if not existing:
        return plan  # a new database (the bots' scratch one): no need of Alembic
    from alembic.runtime.migration import MigrationContext

    impl = MigrationContext.configure(connection).impl
    reflected = inspector.get_multi_columns(filter_names=existing)
    found_in = {name: {c["name"]: c for c in found} for (_, name), found in reflected.items()}
    for name in existing:
        _compare_table(tables[name], found_in[name], impl, connection.dialect, plan)
    if key is not None and plan == AppSchemaPlan():
        _UP_TO_DATE_ON_SQLITE[key] = None
        if len(_UP_TO_DATE_ON_SQLITE) > _UP_TO_DATE_LIMIT:
            _UP_TO_DATE_ON_SQLITE.popitem(last=False)
    return plan


# SQLite keeps a schema only as the CREATE statements in sqlite_master, which is all its
# reflection reads: a database whose statements equal those of one found up to date with the
# same models is up to date too. A process that starts many apps on copies of one database
# (the test suite starts one per test) then reads one table instead of reflecting each app
# table and comparing every column (about 10 ms a start).
_UP_TO_DATE_ON_SQLITE: OrderedDict[tuple[Any, ...], None] = OrderedDict()
_UP_TO_DATE_LIMIT = 256


def _sqlite_schema_key(connection: sa.Connection, tables: dict[str, sa.Table]) -> Any:
    """The database's CREATE statements and the models' columns, or None off SQLite."""
    if connection.dialect.name != "sqlite":
        return None
    statements = connection.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY type, name"
    ).all()
    # The type objects themselves (compared by identity): a project's models are built once.
    models = tuple(
        (name, tuple((c.name, c.nullable, c.type) for c in table.columns))
        for name, table in tables.items()
    )
    return tuple(tuple(row) for row in statements), models


def _compare_table(
    table: sa.Table,
    found: dict[str, Any],
    impl: Any,
    dialect: sa.Dialect,
    plan: AppSchemaPlan,
) -> None:
    model = table.info.get("grove_model", "")
    for column in table.columns:
        # An ExtraModel's link is the experimenter's too: a new one is a new column.
        is_field = bool(column.info.keys() & {"grove_field", "grove_link"})
        reflected = found.get(column.name)
        if reflected is None:
            if is_field:
                plan.added.append(ColumnChange(table.name, column.name, "added", model=model))
            else:
                plan.foreign.append(f"table {table.name} lacks Grove's column {column.name}")
            continue
        in_db = sa.Column(column.name, reflected["type"], nullable=reflected["nullable"])
        if not impl.compare_type(in_db, column) and in_db.nullable == column.nullable:
            continue
        was = _type_text(in_db.type, dialect, in_db.nullable)
        wanted = _type_text(column.type, dialect, column.nullable)
        if not is_field:
            plan.foreign.append(
                f"Grove's column {table.name}.{column.name} is {was} in the database, not {wanted}"
            )
        elif (was, wanted) in WIDENINGS:
            plan.widened.append(
                ColumnChange(table.name, column.name, "widened", was, wanted, model)
            )
        else:
            plan.destructive.append(
                ColumnChange(table.name, column.name, "retyped", was, wanted, model)
            )
    declared = {column.name for column in table.columns}  # names, not keys (payoff)
    for name in found:
        if name not in declared:
            plan.destructive.append(ColumnChange(table.name, name, "dropped", model=model))


def _new_column(table: sa.Table, name: str) -> sa.Column:
    [column] = [c for c in table.columns if c.name == name]
    return sa.Column(name, column.type, nullable=column.nullable)


def _drop_column(
    connection: sa.Connection, operations: Operations, table: str, column: str
) -> None:
    inspector = sa.inspect(connection)
    uses = [
        key for key in inspector.get_foreign_keys(table) if column in key["constrained_columns"]
    ]
    if uses and connection.dialect.name == "sqlite":
        # SQLite cannot drop a column a foreign key uses (an ExtraModel's link): the table is
        # copied without it and its index (``migrate`` runs with foreign keys off, as SQLite
        # asks).
        indexes = [
            index["name"]
            for index in inspector.get_indexes(table)
            if column in index["column_names"] and index["name"] is not None
        ]
        with operations.batch_alter_table(table, recreate="always") as batch:
            for index in indexes:
                batch.drop_index(index)
            batch.drop_column(column)
    else:
        operations.drop_column(table, column)


def apply_plan(
    connection: sa.Connection,
    metadata: sa.MetaData,
    plan: AppSchemaPlan,
    *,
    widen: bool,
    destructive: bool,
) -> list[str]:
    """Make the app tables match the models: new tables and columns always, widenings if
    ``widen``, dropped and retyped fields if ``destructive``; returns what was done, one line
    each. The caller has checked that nothing it did not allow is left (``plan.foreign``)."""
    tables = app_tables(metadata)
    done: list[str] = []
    if plan.new_tables:
        # The plan found them missing (under the schema lock): no has_table each.
        metadata.create_all(connection, tables=plan.new_tables, checkfirst=False)
        done.extend(f"created table {table.name}" for table in plan.new_tables)
    if not (plan.added or (widen and plan.widened) or (destructive and plan.destructive)):
        return done  # no column to change: Alembic (tenths of a second to import) not needed
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    operations = Operations(MigrationContext.configure(connection))
    for change in plan.added:
        operations.add_column(change.table, _new_column(tables[change.table], change.column))
        done.append(
            f"{change.where}: added column {change.table}.{change.column} "
            "(rows made before hold None)"
        )
    if widen:
        for change in plan.widened:
            operations.alter_column(
                change.table,
                change.column,
                type_=sa.BigInteger(),
                existing_type=sa.Integer(),
                existing_nullable=True,
            )
            done.append(
                f"{change.where}: widened {change.table}.{change.column} from {change.was} "
                f"to {change.wanted} (values kept)"
            )
    if destructive:
        for change in plan.destructive:
            _drop_column(connection, operations, change.table, change.column)
            if change.kind == "dropped":
                done.append(
                    f"{change.where}: dropped column {change.table}.{change.column} and its values"
                )
            else:
                operations.add_column(
                    change.table, _new_column(tables[change.table], change.column)
                )
                done.append(
                    f"{change.where}: re-created {change.table}.{change.column} as "
                    f"{change.wanted} (was {change.was}; its values were deleted)"
                )
    return done
