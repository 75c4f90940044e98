"""``python -m server apikey create|list|revoke|regenerate|scope``.

``create NAME --scope read|write|admin`` (admin when left out, as every key was before
scopes); ``scope NAME --scope S`` changes an existing key's scope.
"""

from __future__ import annotations

import argparse

from server import api_keys
from server.api_key_admin import (
    create_user_key,
    key_holders,
    regenerate_user_key,
    revoke_user_key,
    set_user_scope,
)
from server.audit_log import CLI
from server.cli.common import load_context
from server.errors import InvalidArguments


def apikey(args: argparse.Namespace) -> int:
    """Manage per-user REST API keys (the keys page's operations, logged as by ``cli``)."""
    context = load_context()
    db = context.db
    try:
        if args.action == "create":
            scope = args.scope or "admin"
            key = create_user_key(db, args.user, scope, who=CLI)
            print(f"API key for {args.user}, scope {scope} (shown once, store it now):\n{key}")
        elif args.action == "scope":
            if not args.scope:
                raise InvalidArguments("say the new scope: apikey scope NAME --scope S")
            set_user_scope(db, args.user, args.scope, who=CLI)
            print(f"The key of {args.user} now has scope {args.scope}.")
        elif args.action == "regenerate":
            key = regenerate_user_key(db, args.user, who=CLI)
            print(f"New API key for {args.user} (the old one no longer works):\n{key}")
        elif args.action == "revoke":
            revoke_user_key(db, args.user, who=CLI)
            print(f"Revoked the key of {args.user}.")
        else:
            holders = key_holders(db)
            for holder in holders:
                created = holder.created_at[:16].replace("T", " ")
                print(f"{holder.user}\t{holder.scope}\tcreated {created}")
            if not holders:
                print("No API keys.")
    finally:
        db.dispose()
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
