"""migrate: bring the database to this Grove and the project's models (README, "Migrations")."""

from __future__ import annotations

import argparse

from server.cli.common import load_context
from server.schema import migrate_database
from server.schema_versions import head_revision


def migrate(args: argparse.Namespace) -> int:
    """Upgrade Grove's tables, add and widen app columns; with --allow-destructive also drop
    or re-create changed fields. Prints what it did; exit status 1 (nothing changed) when it
    may not go on."""
    context = load_context(prepare=False)
    try:
        done = migrate_database(
            context.db, context.project, allow_destructive=args.allow_destructive
        )
    finally:
        context.db.dispose()
    for line in done:
        print(line)
    if not done:
        print("Nothing to do.")
    print(
        f"The database is up to date: Grove's tables at revision {head_revision()}, "
        "every app's tables as its models declare."
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's commands to the CLI."""
    command = subparsers.add_parser(
        "migrate",
        help="upgrade the database to this Grove and the project's models",
        description=(
            "Upgrade Grove's own tables to the newest revision, add new app tables and "
            "fields, and widen 32-bit IntegerFields on PostgreSQL, keeping all data. Back up "
            "the database first."
        ),
    )
    command.add_argument(
        "--allow-destructive",
        action="store_true",
        help=(
            "also drop the columns of fields the models no longer declare, and re-create "
            "empty the columns of fields whose type changed (their values are deleted; "
            "all other data is kept)"
        ),
    )
    command.set_defaults(handler=migrate)
