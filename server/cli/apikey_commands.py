"""``python -m server apikey create|list|revoke|regenerate|scope``.

``create NAME --scope read|write|admin`` (admin when left out, as every key was before
scopes); ``scope NAME --scope S`` changes an existing key's scope.
"""

from __future__ import annotations

import argparse

from server import api_keys
from server.cli.common import load_context
from server.errors import InvalidArguments


def apikey(args: argparse.Namespace) -> int:
    """Manage per-user REST API keys."""
    context = load_context()
    try:
        with context.db.transaction() as db:
            if args.action == "create":
                scope = args.scope or "admin"
                key = api_keys.create_key(db, args.user, scope)
                print(f"API key for {args.user}, scope {scope} (shown once, store it now):\n{key}")
            elif args.action == "scope":
                if not args.scope:
                    raise InvalidArguments("say the new scope: apikey scope NAME --scope S")
                api_keys.set_scope(db, args.user, args.scope)
                print(f"The key of {args.user} now has scope {args.scope}.")
            elif args.action == "regenerate":
                key = api_keys.regenerate_key(db, args.user)
                print(f"New API key for {args.user} (the old one no longer works):\n{key}")
            elif args.action == "revoke":
                api_keys.revoke_key(db, args.user)
                print(f"Revoked the key of {args.user}.")
            else:
                rows = api_keys.list_users(db)
                for row in rows:
                    print(f"{row.user}\t{row.scope}\tcreated {row.created_at:%Y-%m-%d %H:%M}")
                if not rows:
                    print("No API keys.")
    finally:
        context.db.dispose()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the apikey command."""
    parser = subparsers.add_parser("apikey", help="manage per-user REST API keys")
    parser.add_argument("action", choices=["create", "list", "revoke", "regenerate", "scope"])
    parser.add_argument("user", nargs="?", default="")
    parser.add_argument(
        "--scope",
        choices=api_keys.SCOPES,
        help="read (GET, exports), write (also vars, creating sessions) or admin "
        "(everything); create: admin when left out",
    )
    parser.set_defaults(handler=apikey)
