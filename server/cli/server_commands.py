"""devserver, prodserver, resetdb, create_session."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from server.cli.common import load_context
from server.cli.serving import HTTP_PROTOCOL, production_options
from server.config import Settings
from server.schema import migrate_database, prepare_database, reset_database
from server.sessions import create_session

logger = logging.getLogger("grove")


def _warn_if_open(context_settings: Settings) -> None:
    if not context_settings.admin_login_required:
        logger.warning(
            "No admin password is set: the admin pages are open. Set OTREE_ADMIN_PASSWORD "
            "before you run a real study."
        )
    if context_settings.production and context_settings.demo_open:
        logger.warning(
            "The demo page is public: anyone can create sessions there. Set "
            "OTREE_AUTH_LEVEL=STUDY for a real study."
        )


def start_url(settings: Settings, host: str, port: int) -> str:
    """The page the start-up line points to: one open at the configured auth level (the demo
    page, or with OTREE_AUTH_LEVEL=STUDY, where /demo answers 403, the sessions list, which
    asks for the login)."""
    return f"http://{host}:{port}{'/demo' if settings.demo_open else '/sessions'}"


def devserver(args: argparse.Namespace) -> int:
    """Run one development server on 127.0.0.1 (SQLite db.sqlite3 by default).

    Outside production it first runs what ``migrate`` runs (no destructive change), so a
    new Grove or a widened field needs no extra command while developing.
    """
    context = load_context(prepare=False)
    try:
        if context.settings.production:
            prepare_database(context.db, context.project)
        else:
            for line in migrate_database(context.db, context.project):
                print(line)
    finally:
        context.db.dispose()
    _warn_if_open(context.settings)
    print(f"Grove running: open {start_url(context.settings, args.host, args.port)}")
    uvicorn.run(
        "server.asgi:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        log_level="info",
        http=HTTP_PROTOCOL,
    )
    return 0


def prodserver(args: argparse.Namespace) -> int:
    """Run a production server with several worker processes on one database."""
    context = load_context()
    _warn_if_open(context.settings)
    context.db.dispose()
    uvicorn.run(
        "server.asgi:app_from_environment",
        factory=True,
        **production_options(host=args.host, port=args.port, workers=args.workers),
    )
    return 0


def resetdb(args: argparse.Namespace) -> int:
    """Delete every table and create the project's tables anew."""
    if not args.yes:
        answer = input("This deletes ALL data in the database. Type 'yes' to go on: ")
        if answer.strip().lower() != "yes":
            print("Cancelled.")
            return 1
    context = load_context(prepare=False)
    reset_database(context.db, context.project)
    print("The database has been reset.")
    return 0


def create_session_command(args: argparse.Namespace) -> int:
    """Create a session from the command line and print its links."""
    context = load_context()
    with context.db.transaction() as db:
        session = create_session(
            db,
            context.project,
            args.config,
            args.num_participants,
            room_name=args.room,
            label=args.label,
        )
        code, join_code = session.code, session.join_code
        participant_codes = [p.code for p in session.get_participants()]
    print(f"Created session {code}")
    print(f"Session-wide link: /join/{join_code}")
    for participant_code in participant_codes:
        print(f"/InitializeParticipant/{participant_code}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's commands to the CLI."""
    dev = subparsers.add_parser("devserver", help="run a development server (SQLite by default)")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--reload", action="store_true", help="restart when code changes")
    dev.set_defaults(handler=devserver)

    prod = subparsers.add_parser("prodserver", help="run a production server")
    prod.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    prod.add_argument("--host", default="0.0.0.0")
    prod.add_argument("--workers", type=int, default=2)
    prod.set_defaults(handler=prodserver)

    reset = subparsers.add_parser("resetdb", help="delete all data and recreate the tables")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.set_defaults(handler=resetdb)

    create = subparsers.add_parser("create_session", help="create a session")
    create.add_argument("config")
    create.add_argument("num_participants", type=int)
    create.add_argument("--room", default=None)
    create.add_argument("--label", default=None)
    create.set_defaults(handler=create_session_command)
