"""``python -m server apikey create|list|revoke|regenerate``."""

from __future__ import annotations

import argparse

from server import api_keys
from server.cli.common import load_context


def apikey(args: argparse.Namespace) -> int:
    """Manage per-user REST API keys."""
    context = load_context()
    with context.db.transaction() as db:
        if args.action == "create":
            key = api_keys.create_key(db, args.user)
            print(f"API key for {args.user} (shown once, store it now):\n{key}")
        elif args.action == "regenerate":
            key = api_keys.regenerate_key(db, args.user)
            print(f"New API key for {args.user} (the old one no longer works):\n{key}")
        elif args.action == "revoke":
            api_keys.revoke_key(db, args.user)
            print(f"Revoked the key of {args.user}.")
        else:
            rows = api_keys.list_users(db)
            for row in rows:
                print(f"{row.user}\tcreated {row.created_at:%Y-%m-%d %H:%M}")
            if not rows:
                print("No API keys.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the apikey command."""
    parser = subparsers.add_parser("apikey", help="manage per-user REST API keys")
    parser.add_argument("action", choices=["create", "list", "revoke", "regenerate"])
    parser.add_argument("user", nargs="?", default="")
    parser.set_defaults(handler=apikey)
