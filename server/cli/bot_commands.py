"""``python -m server test [config] [num_participants] [--export DIR]``: run the bots."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from server.bots.runner import run_bots
from server.cli.common import project_root
from server.config import load_settings
from server.project import load_project


def _progress_bar(config: str) -> Callable[[int, int], None]:
    def show(pages: int, _total: int) -> None:
        filled = min(30, pages)
        sys.stdout.write(f"\r{config:<20} [{'#' * filled}{' ' * (30 - filled)}] {pages} pages")
        sys.stdout.flush()

    return show


def test_command(args: argparse.Namespace) -> int:
    """Run the bots of one config (or all) and print a summary line per config."""
    settings = load_settings(project_root(), os.environ)
    project = load_project(settings)
    # Each run's scratch server would warn that its REST API is open: true and irrelevant.
    logging.getLogger("grove").setLevel(logging.ERROR)
    names = [args.config] if args.config else list(project.session_configs)
    if args.config:
        project.session_config(args.config)
    failures = 0
    summaries = []
    for name in names:
        export = Path(args.export) if args.export else None
        for result in run_bots(settings, name, args.num_participants, _progress_bar(name), export):
            sys.stdout.write("\n")
            if result.ok:
                summaries.append(
                    f"{name}: OK ({result.num_participants} participants, "
                    f"{result.pages} pages, {result.seconds:.1f} s)"
                )
            else:
                failures += 1
                where = f" on page {result.failed_page}" if result.failed_page else ""
                print(f"Bot failure in {name}{where}:\n{result.error}", file=sys.stderr)
                summaries.append(f"{name}: FAILED{where}")
    print("\n".join(summaries))
    return 1 if failures else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the test command."""
    parser = subparsers.add_parser("test", help="run the bots of one or every session config")
    parser.add_argument("config", nargs="?")
    parser.add_argument("num_participants", nargs="?", type=int)
    parser.add_argument("--export", metavar="DIR", help="write the resulting data as CSV")
    parser.set_defaults(handler=test_command)
