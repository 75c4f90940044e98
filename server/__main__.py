"""``python -m server <command>``: devserver, prodserver, migrate, resetdb, create_session, ..."""

from __future__ import annotations

import argparse
import logging
import sys

from server.cli import (
    apikey_commands,
    bot_commands,
    migrate_commands,
    server_commands,
    urn_commands,
)
from server.errors import GroveError

COMMAND_MODULES = [server_commands, migrate_commands, apikey_commands, bot_commands, urn_commands]


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; return the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "httpx2"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m server", description="Grove experiment server")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except GroveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
