"""devserver, prodserver, resetdb, create_session (with oTree's argument forms and names)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import threading

from server.cli.common import load_context
from server.config import Settings
from server.errors import GroveError
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
    host, port = listen_address(args, default_host="127.0.0.1", default_port=8000)
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
    print(f"Grove running: open {start_url(context.settings, host, port)}")
    import uvicorn  # here, not at the top: every other command starts without it

    from server.cli.serving import HTTP_PROTOCOL

    uvicorn.run(
        "server.asgi:devserver_app",
        factory=True,
        host=host,
        port=port,
        reload=args.reload,
        log_level="info",
        http=HTTP_PROTOCOL,
    )
    return 0


def prodserver(args: argparse.Namespace) -> int:
    """Run a production server with several worker processes on one database."""
    default_port = parse_port(os.environ.get("PORT") or "8000", "PORT")
    host, port = listen_address(args, default_host="0.0.0.0", default_port=default_port)
    context = load_context()
    _warn_if_open(context.settings)
    context.db.dispose()
    import uvicorn

    from server.cli.serving import production_options

    uvicorn.run(
        "server.asgi:app_from_environment",
        factory=True,
        **production_options(host=host, port=port, workers=args.workers),
    )
    return 0


def idle_worker(args: argparse.Namespace) -> int:
    """oTree's second Procfile process (``prodserver2of2``, its timeout worker): Grove's web
    processes run timeouts themselves, so this only waits until it is stopped, which keeps a
    Procfile written for oTree working without a crashing ``worker`` line."""
    print("Grove needs no separate worker: prodserver handles timeouts. Waiting until stopped.")
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    return 0


def resetdb(args: argparse.Namespace) -> int:
    """Delete every table and create the project's tables anew."""
    if not args.yes:
        try:
            answer = input("This deletes ALL data in the database. Type 'yes' to go on: ")
        except EOFError:  # no one to ask (stdin closed, as under a script): nothing is deleted
            answer = ""
            print()
        if answer.strip().lower() != "yes":
            print("Cancelled.")
            return 1
    context = load_context(prepare=False)
    try:
        reset_database(context.db, context.project)
    finally:
        context.db.dispose()
    print("The database has been reset.")
    return 0


def parse_port(text: str, what: str) -> int:
    """A TCP port number from ``text``; GroveError naming ``what`` if it is not one."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise GroveError(f"{what} must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def parse_address(text: str, default_host: str) -> tuple[str, int]:
    """oTree's positional address: ``8000``, ``0.0.0.0:8000`` or ``[::1]:8000``."""
    host, colon, port = text.rpartition(":")
    if not colon:
        return default_host, parse_port(text, "The port")
    host = host.removeprefix("[").removesuffix("]")
    if not host:
        raise GroveError(f"{text!r} names no host: give PORT or HOST:PORT")
    return host, parse_port(port, "The port")


def listen_address(
    args: argparse.Namespace, *, default_host: str, default_port: int
) -> tuple[str, int]:
    """Where a server listens: the positional ``[HOST:]PORT`` (oTree's form) or
    ``--host``/``--port``, else the defaults. Raises GroveError when both name a port or host."""
    host, port, address = args.host, args.port, getattr(args, "address", None)
    if address is not None:
        positional_host, positional_port = parse_address(address, default_host)
        if port is not None and port != positional_port:
            raise GroveError(f"two ports given: {address} and --port {port}")
        if ":" in address and host is not None and host != positional_host:
            raise GroveError(f"two hosts given: {address} and --host {host}")
        port = positional_port
        if ":" in address:
            host = positional_host
    return host or default_host, default_port if port is None else port


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


def _add_address_arguments(parser: argparse.ArgumentParser, default_host: str) -> None:
    parser.add_argument(
        "address",
        nargs="?",
        metavar="[HOST:]PORT",
        help=f"as in oTree: a port, or host:port (default host {default_host})",
    )
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--host", default=None)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's commands to the CLI."""
    dev = subparsers.add_parser(
        "devserver", help="run a development server (SQLite by default; port 8000)"
    )
    _add_address_arguments(dev, "127.0.0.1")
    dev.add_argument("--reload", action="store_true", help="restart when code changes")
    dev.set_defaults(handler=devserver)

    prod = subparsers.add_parser(
        "prodserver",
        # oTree's older names, and its Procfile's web process
        aliases=["runprodserver", "prodserver1of2", "webandworkers"],
        help="run a production server (port: PORT from the environment, else 8000)",
    )
    _add_address_arguments(prod, "0.0.0.0")
    prod.add_argument("--workers", type=int, default=2)
    prod.set_defaults(handler=prodserver)

    idle = subparsers.add_parser(
        "prodserver2of2",
        aliases=["timeoutworker"],
        help="oTree's timeout worker; with Grove it only waits (prodserver runs timeouts)",
    )
    idle.set_defaults(handler=idle_worker)

    reset = subparsers.add_parser("resetdb", help="delete all data and recreate the tables")
    reset.add_argument(
        "--yes", "--noinput", dest="yes", action="store_true", help="do not ask for confirmation"
    )
    reset.set_defaults(handler=resetdb)

    create = subparsers.add_parser("create_session", help="create a session")
    create.add_argument("config")
    create.add_argument("num_participants", type=int)
    create.add_argument("--room", default=None)
    create.add_argument("--label", default=None)
    create.set_defaults(handler=create_session_command)
