"""``python -m server test [config] [num_participants] [--export [DIR]]``: run the bots."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from server.bots.runner import BotRunResult, load_player_bot, run_configs
from server.cli.common import project_root
from server.config import Settings, load_settings
from server.project import Project, load_project
from server.sessions import validate_num_participants

AUTOMATIC = "<automatic>"


def _progress_bar(label: str) -> Callable[[int, int], None]:
    def show(pages: int, _total: int) -> None:
        filled = min(30, pages)
        sys.stdout.write(f"\r{label:<20} [{'#' * filled}{' ' * (30 - filled)}] {pages} pages")
        sys.stdout.flush()

    return show


def _check_before_running(
    settings: Settings, project: Project, names: list[str], n: int | None
) -> None:
    """Fail in one line, before any run, on a bad participant count or an unusable bot file."""
    for name in names:
        config = project.session_config(name)
        if n is not None:
            validate_num_participants(project, config, n)
        for app_name in config["app_sequence"]:
            load_player_bot(settings, app_name)


def test_command(args: argparse.Namespace) -> int:
    """Run the bots of one config (or all), once per case; print a summary line per run.

    Raises GroveError (shown as one line by ``__main__``) for an unknown config, a
    participant count that is not a multiple of the group size, or a bot file that fails to
    import.
    """
    settings = load_settings(project_root(), os.environ)
    project = load_project(settings)
    # Each run's scratch server would warn that its REST API is open: true and irrelevant.
    logging.getLogger("grove").setLevel(logging.ERROR)
    names = [args.config] if args.config else list(project.session_configs)
    _check_before_running(settings, project, names, args.num_participants)
    folder = automatic_export_folder(datetime.now()) if args.export == AUTOMATIC else args.export
    export = Path(folder) if folder else None
    failures = 0
    summaries = []
    # The bar redraws one line with \r: at a terminal only, not in a log or a pipe.
    drawing = sys.stdout.isatty()

    def report(result: BotRunResult) -> None:
        nonlocal failures
        if drawing:
            sys.stdout.write("\n")
        name = result.config_name
        label = f"{name}, {result.case_label}" if result.case_label else name
        if result.ok:
            stopped = (
                f", {len(result.stopped_early)} bot(s) stopped early as their play_round returned"
                if result.stopped_early
                else ""
            )
            summaries.append(
                f"{label}: OK ({result.num_participants} participants, "
                f"{result.pages} pages, {result.seconds:.1f} s{stopped})"
            )
        else:
            failures += 1
            where = f" {result.failed_where}" if result.failed_where else ""
            print(f"Bot failure in {label}{where}:\n{result.error}", file=sys.stderr)
            summaries.append(f"{label}: FAILED{where}")

    run_configs(
        settings,
        names,
        args.num_participants,
        _progress_bar if drawing else None,
        export,
        on_result=report,
    )
    if export is not None:
        summaries.append(f"Exported CSV to {export} (every case's sessions, by session.code)")
    print("\n".join(summaries))
    return 1 if failures else 0


def automatic_export_folder(now: datetime) -> str:
    """The folder ``--export`` without a name writes to: oTree's ``__temp_bots_...`` name, which
    a project's .gitignore and ``zip`` leave out."""
    return now.strftime("__temp_bots_%b%d_%Hh%Mm%S.%f")[:-5] + "s"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the test command (oTree's ``otree test``, also named ``bots``)."""
    parser = subparsers.add_parser(
        "test", aliases=["bots"], help="run the bots of one or every session config"
    )
    parser.add_argument("config", nargs="?")
    parser.add_argument("num_participants", nargs="?", type=int)
    parser.add_argument(
        "--export",
        "--save",
        metavar="DIR",
        nargs="?",
        const=AUTOMATIC,
        help="write the resulting data as CSV (to DIR, or a new __temp_bots_... folder)",
    )
    parser.set_defaults(handler=test_command)
