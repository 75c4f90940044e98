"""``python -m server <command>``, also installed as the ``grove`` and ``otree`` commands:
devserver, prodserver, test, resetdb, create_session, startproject, startapp, zip, unzip, ..."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import sqlalchemy as sa

from server import __version__
from server.cli import (
    api_commands,
    apikey_commands,
    archive_commands,
    bot_commands,
    migrate_commands,
    scaffold_commands,
    server_commands,
    urn_commands,
)
from server.cli.program import program_name
from server.errors import GroveError

COMMAND_MODULES = [
    server_commands,
    migrate_commands,
    apikey_commands,
    api_commands,
    bot_commands,
    urn_commands,
    scaffold_commands,
    archive_commands,
]
# oTree's words for asking about the command line itself.
OPTION_WORDS = {"help": "--help", "version": "--version"}


def build_parser(prog: str = "python -m server") -> argparse.ArgumentParser:
    """The whole command line: one sub-command per command module's registration."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Grove experiment server. Run the commands from your project's folder.",
    )
    parser.add_argument("--version", action="version", version=f"Grove {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; return the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "httpx2"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    prog = program_name(sys.argv[0]) if argv is None else "python -m server"
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in OPTION_WORDS:
        arguments[0] = OPTION_WORDS[arguments[0]]
    parser = build_parser(prog)
    args = parser.parse_args(arguments)
    if args.command is None:  # as oTree: the bare command shows what it can do
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except GroveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except sa.exc.OperationalError as exc:
        # The database cannot be reached (PostgreSQL down, a wrong host, port or password):
        # the driver's own words, not SQLAlchemy's traceback.
        reason = str(exc.orig or exc).strip().splitlines()[0]
        print(
            f"error: cannot use the database {_shown_url(exc)}: {reason}. Check DATABASE_URL.",
            file=sys.stderr,
        )
        return 1


def _shown_url(exc: sa.exc.OperationalError) -> str:
    """The database of a failed connection as a URL without its password, if SQLAlchemy
    knows it."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "(the default SQLite file)"
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "named by DATABASE_URL"


if __name__ == "__main__":
    sys.exit(main())
