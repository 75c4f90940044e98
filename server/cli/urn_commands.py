"""``python -m server urn list|create|verify|export|import|simulate``."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from server.audit_log import CLI, record_change
from server.cli.common import CommandContext, GroveError, fail, load_context
from server.randomization.service import verify
from server.randomization.studies import create_study, list_studies
from server.randomization.transfer import export_history, history_csv, import_history, simulate
from server.randomization.urn import UrnConfig


def _read_config(text: str) -> object:
    # The CONFIG argument: a JSON object, or the path of a file holding one.
    if text.lstrip().startswith("{"):
        return json.loads(text)
    path = Path(text)
    if not path.is_file():
        raise ValueError(f"{text} is neither a JSON object nor a file")
    return json.loads(path.read_text(encoding="utf-8"))


def _list(context: CommandContext) -> int:
    studies = list_studies(context.db, context.settings.urn_studies)
    if not studies:
        print("No urn studies.")
        return 0
    print(f"{'study':<30} {'defined in':<10} {'assigned':>8}  per treatment")
    for study in studies:
        totals = ", ".join(f"{t}: {n}" for t, n in study.treatment_totals.items())
        print(f"{study.name:<30} {study.defined_in:<10} {study.num_assigned:>8}  {totals}")
    return 0


def _create(context: CommandContext, name: str, config_text: str | None) -> int:
    if not config_text:
        return fail("give the urn configuration: a JSON object or a .json file")
    try:
        config = _read_config(config_text)
    except (ValueError, OSError) as exc:
        return fail(f"cannot read the configuration: {exc}")
    try:
        study = create_study(context.db, context.settings.urn_studies, name, config, who=CLI)
    except GroveError as exc:
        return fail(str(exc))
    print(
        f"Created study {study.name!r}: treatments {', '.join(study.treatments)}; factors "
        f"{', '.join(study.factors)}. Its starting seed is concealed: "
        f"`python -m server urn export {study.name!r} --format json` shows it to admins."
    )
    return 0


def urn(args: argparse.Namespace) -> int:
    """Audit, move and plan urn studies."""
    if args.action != "list" and not args.target:
        return fail(f"urn {args.action} needs a study name (or, for simulate, a session config)")
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
    if args.action == "list":
        return _list(context)
    if args.action == "create":
        return _create(context, args.target, args.file)
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
        record_change(db, CLI, "study.import", study=args.target, details={"assignments": added})
    print(f"Imported {added} assignment(s) into {args.target!r}.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the urn command."""
    parser = subparsers.add_parser(
        "urn", help="urn randomization: list, create, verify, export, import, simulate"
    )
    parser.add_argument(
        "action", choices=["list", "create", "verify", "export", "import", "simulate"]
    )
    parser.add_argument(
        "target",
        nargs="?",
        help="study name (create/verify/export/import) or session config (simulate)",
    )
    parser.add_argument(
        "file",
        nargs="?",
        help="import: the CSV file; create: the urn configuration (JSON object or .json file)",
    )
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.set_defaults(handler=urn)
