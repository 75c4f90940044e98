"""Grove against oTree and the bare Starlette floor, side by side in one run.

Run from the repository root: ``python -m bench`` (about 15 minutes; ``--quick`` for a short
smoke run). It installs oTree into ``bench/.venv-otree`` on first use, starts each server on
loopback, loads it with wrk and the asyncio flow client in separate processes, prints the
table and the targets, and saves the results under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import live_roundtrip, metrics, wait_release
from bench.machine import describe_machine
from bench.otree_env import OTREE_VERSION, ensure_otree, otree_python
from bench.projects import build_grove_project, build_otree_project
from bench.report import (
    build_database_rows,
    build_rows,
    check_targets,
    database_header,
    format_table,
    format_targets,
)
from bench.servers import RunningServer, floor_server, grove_server, otree_server
from bench.urn_throughput import seed_history
from bench.wrk import wrk_available

RESULTS = Path(__file__).resolve().parent / "results"


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _measure(out: dict[str, Any], name: str, label: str, measure: Any, *args: Any) -> None:
    """Run one metric; on failure record the error and go on with the others."""
    _log(label)
    try:
        out[name] = measure(*args)
    except Exception as error:
        _log(f"{label} FAILED: {error}")
        out[name] = {"error": str(error)[-2000:]}


def _server_metrics(server: RunningServer, plan: dict[str, Any], python: Path | None) -> dict:
    out: dict[str, Any] = {}
    name = server.name
    _measure(
        out,
        "form_page",
        f"{name}: form page",
        metrics.form_page,
        server,
        plan["concurrencies"],
        plan["seconds"],
    )
    _measure(
        out,
        "participant_vars",
        f"{name}: participant_vars",
        metrics.participant_vars,
        server,
        plan["vars_clients"],
        plan["seconds"],
    )
    _measure(
        out,
        "session_creation",
        f"{name}: session creation",
        metrics.session_creation,
        server,
        plan["session_sizes"],
        plan["concurrent_size"],
        plan["get_clients"],
    )
    _measure(
        out,
        "wait_page",
        f"{name}: wait page",
        metrics.wait_page,
        server,
        plan["wait_groups"],
        python,
    )
    return out


def _urn(
    project: Path, folder: Path, plan: dict[str, Any], workers: int, postgres: str | None = None
) -> dict:
    """Metric 5 at each number of prior assignments, each on a fresh database: a SQLite
    file, or a new database on the PostgreSQL server ``postgres``."""
    results = {}
    for prior in plan["urn_priors"]:
        data = folder / f"urn_{prior}"
        data.mkdir()
        url = create_database(postgres) if postgres else f"sqlite:///{data / 'grove.sqlite3'}"
        study = seed_history(url, prior, project)
        with grove_server(
            project, data, workers=workers, database_url=url if postgres else None
        ) as server:
            _measure(
                results,
                str(prior),
                f"grove: urn API at {prior:,} prior",
                metrics.urn_api,
                server,
                study,
                plan["vars_clients"],
                plan["seconds"],
                plan["urn_max_draws"],
            )
    return results


def _postgres(project: Path, folder: Path, plan: dict[str, Any]) -> dict[str, Any]:
    """Metrics 1-5 of Grove on a throwaway PostgreSQL cluster (``tests/postgres.py``), with
    one worker and with two, each on fresh databases."""
    from tests.postgres import postgres_server

    results: dict[str, Any] = {}
    with postgres_server() as server_url:
        for workers in (1, 2):
            _log(f"grove on PostgreSQL, {workers} worker{'s' * (workers > 1)}")
            data = folder / f"postgres_{workers}"
            data.mkdir()
            url = create_database(server_url)
            with grove_server(project, data, workers=workers, database_url=url) as server:
                part = _server_metrics(server, plan, None)
            part["urn_api"] = _urn(project, data, plan, workers, server_url)
            results[f"workers_{workers}"] = part
    return results


def create_database(server_url: str) -> str:
    """A fresh database on the PostgreSQL server (``tests/postgres.py``)."""
    from tests.postgres import create_database as create

    return create(server_url)


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        return {
            "concurrencies": [1, 10],
            "seconds": 1.0,
            "vars_clients": 10,
            "session_sizes": [(10, 1), (200, 1)],
            "concurrent_size": 200,
            "get_clients": 4,
            "wait_groups": 2,
            "urn_priors": [100],
            "urn_max_draws": 5_000,
            "bot_sizes": (1, 5),
            "bot_repeats": 1,
            "live_players": 8,
            "live_rate": 2.0,
            "live_warmup_s": 1.0,
            "live_seconds": 3.0,
            "live_drain_s": 2.0,
            "release_groups": 4,
            "release_rounds": 2,
        }
    return {
        "concurrencies": [1, 10, 100],
        "seconds": args.seconds,
        "vars_clients": 10,
        "session_sizes": [(10, 5), (200, 3), (2000, 1)],
        "concurrent_size": 2000,
        "get_clients": 10,
        "wait_groups": 20,
        "urn_priors": [100, 100_000],
        "urn_max_draws": 40_000,
        "bot_sizes": (2, 20),
        "bot_repeats": 3,
        "live_players": 100,
        "live_rate": args.live_rate,
        "live_warmup_s": 2.0,
        "live_seconds": 20.0,
        "live_drain_s": 3.0,
        "release_groups": 10,
        "release_rounds": 6,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure everything the arguments ask for; return the results document."""
    if not wrk_available():
        raise SystemExit(
            "wrk is not installed: apt-get install wrk (or ./scripts/install.sh --system)"
        )
    plan = _plan(args)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "otree_version": None if args.skip_otree else OTREE_VERSION,
        "workers": {"grove": args.workers, "floor": args.workers, "otree": 1},
        "database": "SQLite (file) for Grove and oTree; Grove's metrics 1-5 and the live round "
        "trip also on PostgreSQL",
        "plan": plan,
        "grove": {},
        "otree": {},
        "floor": {},
    }
    with tempfile.TemporaryDirectory(prefix="grove-bench-") as tmp:
        folder = Path(tmp)
        grove_project = build_grove_project(folder / "grove_project")
        _log("floor")
        with floor_server(workers=args.workers) as server:
            results["floor"] = metrics.floor(server, plan["concurrencies"], plan["seconds"])
        (folder / "grove_data").mkdir()
        with grove_server(grove_project, folder / "grove_data", workers=args.workers) as server:
            results["grove"] = _server_metrics(server, plan, None)
        results["grove"]["urn_api"] = _urn(grove_project, folder, plan, args.workers)
        if not args.skip_postgres:
            _measure(
                results, "postgresql", "grove on PostgreSQL", _postgres, grove_project, folder, plan
            )
        _log("grove: wait page release")
        (folder / "release").mkdir()
        _measure(
            results["grove"],
            "wait_release",
            "grove: wait page release",
            wait_release.measure,
            folder / "release",
            plan["release_groups"],
            4,
            plan["release_rounds"],
            args.workers,
            not args.skip_postgres,
        )
        _log("grove: live round trip")
        results["grove"]["live"] = live_roundtrip.measure_grove(
            grove_project, folder, plan, args.workers, postgres=not args.skip_postgres
        )
        otree_bin = None
        if not args.skip_otree:
            _log("installing oTree (first run only)")
            otree_bin = ensure_otree()
            otree_project = build_otree_project(folder / "otree_project")
            with otree_server(otree_bin, otree_project) as server:
                results["otree"] = _server_metrics(server, plan, otree_python())
            with otree_server(otree_bin, otree_project) as server:  # a fresh process and file
                _measure(
                    results["otree"],
                    "live",
                    "otree: live round trip",
                    live_roundtrip.measure,
                    [server],
                    plan,
                )
            (otree_project / "db.sqlite3").unlink(missing_ok=True)
        _measure(results, "bots", "bots", metrics.bot_runs, folder, otree_bin)
        _measure(
            results,
            "bot_rate",
            "bots: pages per second and start-up",
            metrics.bot_throughput,
            folder,
            otree_bin,
            plan["bot_sizes"],
            plan["bot_repeats"],
        )
    return results


def _failures(part: Any, where: str = "") -> list[tuple[str, str]]:
    """Every metric that failed, however deep (the urn's priors, the live metric's
    databases): where it is, and its error."""
    if not isinstance(part, dict):
        return []
    if isinstance(part.get("error"), str):
        return [(where, part["error"])]
    found = []
    for name, value in part.items():
        found += _failures(value, f"{where} {name}".strip())
    return found


def _refused(part: Any, where: str = "") -> list[tuple[str, dict]]:
    """Every load whose answers were not all 2xx or 3xx: where it is, and its record."""
    if not isinstance(part, dict):
        return []
    if part.get("not_ok"):
        return [(where, part)]
    found = []
    for name, value in part.items():
        found += _refused(value, f"{where} {name}".strip())
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and targets, save the results."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--skip-otree", action="store_true", help="Grove and the floor only")
    parser.add_argument(
        "--skip-postgres", action="store_true", help="no PostgreSQL runs (SQLite only)"
    )
    parser.add_argument(
        "--live-rate", type=float, default=1.0, help="live messages a second per player"
    )
    parser.add_argument("--workers", type=int, default=2, help="Grove's and the floor's")
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput run")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: py-spy profiles of every path (python -m bench.profile_paths)",
    )
    args = parser.parse_args(argv)
    if args.profile:
        from bench import profile_paths

        return profile_paths.main(["--seconds", str(args.seconds)])
    results = run(args)
    rows = build_rows(results)
    checks = check_targets(results)
    results["table"] = [list(row) for row in rows]
    results["targets"] = [
        {"target": name, "met": met, "figures": figures} for name, met, figures in checks
    ]
    print(format_table(rows))
    if results.get("postgresql"):
        database_rows = build_database_rows(results)
        results["database_table"] = [list(row) for row in database_rows]
        print()
        print(format_table(database_rows, database_header(results)))
    print()
    print(format_targets(checks))
    for where, error in _failures(
        {
            name: results.get(name)
            for name in ("grove", "otree", "floor", "bots", "bot_rate", "postgresql")
        }
    ):
        print(f"FAILED  {where}: {error[-300:]}")
    for where, record in _refused(
        {name: results.get(name) for name in ("grove", "otree", "floor", "postgresql")}
    ):
        print(
            f"REFUSED {where}: {record['not_ok']} of {record['requests']} answers not 2xx/3xx "
            f"{record.get('statuses')} (left out of the rate)"
        )
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        stamp = results["date"].replace(":", "").replace("+0000", "Z")
        text = json.dumps(results, indent=2)
        (RESULTS / f"bench-{stamp}.json").write_text(text)
        (RESULTS / "latest.json").write_text(text)
        print(f"\nsaved bench/results/bench-{stamp}.json and bench/results/latest.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
