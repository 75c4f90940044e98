"""``python -m server urn verify|export|import|simulate``."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from server.cli.common import load_context
from server.randomization.service import verify
from server.randomization.transfer import export_history, history_csv, import_history, simulate
from server.randomization.urn import UrnConfig


def urn(args: argparse.Namespace) -> int:
    """Audit, move and plan urn studies."""
    if args.action == "simulate":
        import os

        from server.cli.common import project_root
        from server.config import load_settings
        from server.project import load_project

        project = load_project(load_settings(project_root(), os.environ))
        raw = project.session_config(args.target).get("urn")
        if not raw:
            print(f"error: session config {args.target!r} has no urn")
            return 1
        config = UrnConfig.from_dict(raw)
        print(
            f"{'factor':<20} {'level':<20} mean |max-min| over {args.runs} runs of "
            f"{args.participants} (D={config.D}, w={config.w}, alpha={config.alpha}, "
            f"beta={config.beta})"
        )
        for row in simulate(config, args.participants, args.runs):
            print(f"{row['factor']:<20} {row['level']:<20} {row['mean_imbalance']:.2f}")
        return 0
    context = load_context()
    if args.action == "verify":
        with context.db.read() as db:
            problems = verify(db, args.target)
        if problems:
            print(f"Study {args.target!r}: {len(problems)} divergence(s):")
            for problem in problems:
                print(f"  {problem}")
            return 1
        print(f"Study {args.target!r}: the history replays exactly from the seed.")
        return 0
    if args.action == "export":
        with context.db.read() as db:
            export = export_history(db, args.target)
        if args.format == "json":
            print(json.dumps(export, indent=2, default=str))
        else:
            print(history_csv(export), end="")
        return 0
    path = Path(args.file or "")
    if not path.is_file():
        print(f"error: {path} is not a file")
        return 1
    with path.open(newline="", encoding="utf-8") as handle, context.db.transaction() as db:
        added = import_history(db, args.target, csv.DictReader(handle))
    print(f"Imported {added} assignment(s) into {args.target!r}.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the urn command."""
    parser = subparsers.add_parser(
        "urn", help="urn randomization: verify, export, import, simulate"
    )
    parser.add_argument("action", choices=["verify", "export", "import", "simulate"])
    parser.add_argument(
        "target", help="study name (verify/export/import) or session config (simulate)"
    )
    parser.add_argument("file", nargs="?", help="CSV file to import")
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.set_defaults(handler=urn)
