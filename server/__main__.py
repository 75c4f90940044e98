"""``python -m server <command>``, also installed as the ``grove`` and ``otree`` commands:
devserver, prodserver, test, resetdb, create_session, startproject, startapp, zip, unzip, ..."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from server import __version__
from server.cli.program import program_name
from server.errors import GroveError

if TYPE_CHECKING:
    import sqlalchemy as sa

# Each command module (in ``server.cli``) and the command words it registers. A command runs
# with its own module imported only (a bot run needs none of the server's, the API client's
# or the archive commands' imports); help, and a word not listed here, import them all.
COMMAND_WORDS = {
    "server_commands": (
        "devserver",
        "prodserver",
        "runprodserver",
        "prodserver1of2",
        "webandworkers",
        "prodserver2of2",
        "timeoutworker",
        "resetdb",
        "create_session",
    ),
    "migrate_commands": ("migrate",),
    "apikey_commands": ("apikey",),
    "api_commands": ("api",),
    "bot_commands": ("test", "bots"),
    "urn_commands": ("urn",),
    "scaffold_commands": ("startproject", "startapp"),
    "archive_commands": ("zip", "unzip"),
}
# oTree's words for asking about the command line itself.
OPTION_WORDS = {"help": "--help", "version": "--version"}


def _command_modules(word: str | None) -> list[ModuleType]:
    """The module that registers the command ``word``; every command module when ``word``
    is None or names no command of the table."""
    names = [name for name, words in COMMAND_WORDS.items() if word in words] or list(COMMAND_WORDS)
    return [importlib.import_module(f"server.cli.{name}") for name in names]


def build_parser(
    prog: str = "python -m server", command: str | None = None
) -> argparse.ArgumentParser:
    """The command line: one sub-command per command module's registration (with
    ``command``, the sub-commands of its module only, when the table names it)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Grove experiment server. Run the commands from your project's folder.",
    )
    parser.add_argument("--version", action="version", version=f"Grove {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules(command):
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; return the exit status.

    Run as the process's own command (``argv`` None), the command's imports run without the
    cyclic garbage collector, and what they built is then left out of every later collection
    (``gc.freeze``, as ``server.asgi`` does for a worker's start-up): modules, classes and
    functions live as long as the process, and otherwise each full collection of a bot run
    scanned them all again (about 60-70 ms of CPU in a 20-participant ``test``; the
    collections during the imports 55-90 ms)."""
    own_process = argv is None
    if own_process:
        gc.disable()
    try:
        import sqlalchemy as sa  # here, not at the top: imported without collections

        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        for chatty in ("httpx", "httpx2"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
        prog = program_name(sys.argv[0]) if argv is None else "python -m server"
        arguments = list(sys.argv[1:] if argv is None else argv)
        if arguments and arguments[0] in OPTION_WORDS:
            arguments[0] = OPTION_WORDS[arguments[0]]
        parser = build_parser(prog, arguments[0] if arguments else None)
        args = parser.parse_args(arguments)
    finally:
        if own_process:
            gc.freeze()
            gc.enable()
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
    import sqlalchemy as sa

    url = os.environ.get("DATABASE_URL")
    if not url:
        return "(the default SQLite file)"
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "named by DATABASE_URL"


if __name__ == "__main__":
    sys.exit(main())
