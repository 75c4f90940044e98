"""Creating missing tables and detecting a changed schema before any request runs."""

from __future__ import annotations

import sqlalchemy as sa

from server.db import Database
from server.errors import SchemaMismatch
from server.project import Project


def schema_differences(db: Database, metadata: sa.MetaData) -> list[str]:
    """Human-readable differences between the database's tables and the project's models."""
    inspector = sa.inspect(db.engine)
    existing = set(inspector.get_table_names())
    problems: list[str] = []
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue
        in_db = {column["name"] for column in inspector.get_columns(table.name)}
        in_models = {column.name for column in table.columns}
        missing = sorted(in_models - in_db)
        extra = sorted(in_db - in_models)
        if missing:
            problems.append(f"table {table.name} lacks column(s) {', '.join(missing)}")
        if extra:
            problems.append(
                f"table {table.name} has column(s) no model declares: {', '.join(extra)}"
            )
    return problems


def prepare_database(db: Database, project: Project) -> None:
    """Create missing tables; raise SchemaMismatch (suggesting resetdb) if the schema changed."""
    problems = schema_differences(db, project.metadata)
    if problems:
        raise SchemaMismatch(
            "The database does not match your models ("
            + "; ".join(problems)
            + "). Run `python -m server resetdb` to delete all data and recreate the tables."
        )
    project.metadata.create_all(db.engine)


def reset_database(db: Database, project: Project) -> None:
    """Drop every table (the project's and any left over) and create them anew."""
    reflected = sa.MetaData()
    reflected.reflect(db.engine)
    reflected.drop_all(db.engine)
    project.metadata.create_all(db.engine)
