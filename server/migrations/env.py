"""Alembic's environment for Grove's own tables: always online, on the caller's connection.

``schema_versions`` puts an open connection in ``config.attributes["connection"]``; the
migrations run in the caller's transaction, under its lock.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from server.models import all as _registered_models  # noqa: F401  (registers every table)
from server.models.base import Base

GROVE_TABLES = frozenset(Base.metadata.tables)


def _only_grove_tables(name: Any, type_: str, parent_names: Any) -> bool:
    # Autogenerate compares Grove's tables only: the per-app tables in the same database
    # follow the project's models (server.app_schema), not these revisions.
    return type_ != "table" or name in GROVE_TABLES


def run_migrations() -> None:
    """Run the revisions Alembic selected, on the connection the caller passed in."""
    if context.is_offline_mode():
        raise RuntimeError("Grove's migrations run on a live database connection only")
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=_only_grove_tables,
        render_as_batch=True,  # SQLite alters a table by copying it (Alembic's batch mode)
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
