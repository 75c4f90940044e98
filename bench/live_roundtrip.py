"""Metric 7 of ``python -m bench``: a live page's round trip, from one player's ``liveSend`` to
the delivery at the other members of the group, with every player connected and sending.

The app is ``bench/apps/bench_live`` (groups of four; each message is counted in the group
and sent back to the whole group), the same file on both servers. Grove runs as two worker
processes on one database (SQLite, then PostgreSQL), and the players' sockets alternate
between them, so that in every group two members sit on each worker and every message has
recipients on the other worker. oTree runs its one process. The sockets, the sending and the
timing are ``bench/live_client.py``, in its own process.

Alone: ``python -m bench.live_roundtrip`` (``--players 100 --rate 1 --seconds 20``,
``--skip-otree``, ``--skip-postgres``) prints this metric's rows of the table and its targets,
and saves the figures as ``bench/results/live-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.machine import describe_machine
from bench.projects import build_grove_project, build_otree_project
from bench.report import build_rows, check_targets, format_table, format_targets
from bench.servers import RunningServer, grove_server, otree_server
from bench.setup_calls import create_session

LIVE_CLIENT = Path(__file__).resolve().parent / "live_client.py"
RESULTS = Path(__file__).resolve().parent / "results"
CONFIG = "bench_live"
GROUP_SIZE = 4  # bench_live's C.PLAYERS_PER_GROUP
# The live script's tag on each server's page, and the attribute holding the socket's path.
_SOCKET_PATH = {
    "grove": re.compile(r'id="grove-live"[^>]*\sdata-url="([^"]+)"'),
    "otree": re.compile(r'id="otree-live"[^>]*\sdata-socket-url="([^"]+)"'),
}


def socket_paths(server: RunningServer, codes: list[str]) -> list[str]:
    """Open each participant's start link; the path of its live page's socket, read from the
    page as the page's own script reads it. Raises RuntimeError if a page has none."""
    pattern = _SOCKET_PATH["grove" if server.name == "grove" else "otree"]
    paths = []
    with httpx.Client(base_url=server.base_url, timeout=60, follow_redirects=True) as client:
        for code in codes:
            page = client.get(f"/InitializeParticipant/{code}")
            page.raise_for_status()
            match = pattern.search(page.text)
            if match is None:
                raise RuntimeError(f"{server.name}: no live socket on {page.url}")
            paths.append(html.unescape(match.group(1)))
    return paths


def run_client(job: dict[str, Any]) -> dict[str, Any]:
    """Run ``bench/live_client.py`` on one job in its own process; its JSON result."""
    completed = subprocess.run(
        [sys.executable, str(LIVE_CLIENT)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the live client failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout)


def measure(workers: list[RunningServer], plan: dict[str, Any]) -> dict[str, Any]:
    """One session of ``plan["live_players"]`` players in groups of four, its sockets spread
    over ``workers`` (player i on worker i mod len(workers)); the live client's figures
    (milliseconds, messages a second) and the workers' count."""
    first = workers[0]
    _, codes = create_session(first, CONFIG, plan["live_players"])
    paths = socket_paths(first, codes)
    players = []
    for number, path in enumerate(paths):
        worker = workers[number % len(workers)]
        url = worker.base_url.replace("http://", "ws://", 1) + path
        players.append({"url": url, "worker": f"{worker.name}-{number % len(workers)}"})
    job = {
        "protocol": "grove" if first.name == "grove" else "otree",
        "players": players,
        "group_size": GROUP_SIZE,
        "rate": plan["live_rate"],
        "warmup_s": plan["live_warmup_s"],
        "seconds": plan["live_seconds"],
        "drain_s": plan["live_drain_s"],
    }
    return {"workers": len(workers), **run_client(job)}


@contextmanager
def grove_workers(
    project: Path, data_dir: Path, database_url: str | None, count: int
) -> Iterator[list[RunningServer]]:
    """``count`` Grove worker processes on one database, each a one-worker prodserver with
    its own port (so the benchmark, not the kernel, chooses which worker holds a socket),
    started one after the other (the first prepares the database)."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                grove_server(project, data_dir, workers=1, database_url=database_url)
            )
            for _ in range(count)
        ]


def grove_databases(stack: ExitStack, data_dir: Path, postgres: bool) -> dict[str, str | None]:
    """The databases Grove is measured on: SQLite (None: the data folder's file) and, if
    ``postgres``, a fresh database on a throwaway PostgreSQL server (``tests/postgres.py``)."""
    databases: dict[str, str | None] = {"sqlite": None}
    if postgres:
        from tests.postgres import create_database, postgres_server

        databases["postgresql"] = create_database(stack.enter_context(postgres_server()))
    return databases


def measure_grove(
    project: Path, folder: Path, plan: dict[str, Any], workers: int, postgres: bool
) -> dict[str, Any]:
    """The live metric on Grove on each database, each in a fresh folder or database."""
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        for name, url in grove_databases(stack, folder, postgres).items():
            data_dir = folder / f"live_{name}"
            data_dir.mkdir()
            try:
                with grove_workers(project, data_dir, url, workers) as servers:
                    results[name] = measure(servers, plan)
            except Exception as error:
                results[name] = {"error": str(error)[-2000:]}
    return results


def main(argv: list[str] | None = None) -> int:
    """Run only this metric; print its table rows and targets, save its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.live_roundtrip", description=__doc__)
    parser.add_argument("--players", type=int, default=100, help="a multiple of 4")
    parser.add_argument("--rate", type=float, default=1.0, help="messages a second per player")
    parser.add_argument("--seconds", type=float, default=20.0, help="the measured window")
    parser.add_argument("--workers", type=int, default=2, help="Grove's")
    parser.add_argument("--skip-otree", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    plan = {
        "live_players": args.players,
        "live_rate": args.rate,
        "live_seconds": args.seconds,
        "live_warmup_s": 2.0,
        "live_drain_s": 3.0,
    }
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "plan": plan,
        # The machine is shared: its 1-minute load before and after says how busy it was.
        "load_average_before": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="grove-bench-live-") as tmp:
        folder = Path(tmp)
        project = build_grove_project(folder / "grove_project")
        results["grove"] = measure_grove(
            project, folder, plan, args.workers, not args.skip_postgres
        )
        if not args.skip_otree:
            from bench.otree_env import ensure_otree

            otree_project = build_otree_project(folder / "otree_project")
            with otree_server(ensure_otree(), otree_project) as server:
                results["otree"] = {"live": measure([server], plan)}
    results["grove"] = {"live": results["grove"]}
    results["load_average_after"] = os.getloadavg()[0]
    print(format_table(build_rows(results)))
    print()
    print(format_targets(check_targets(results)))
    RESULTS.mkdir(exist_ok=True)
    stamp = results["date"].replace(":", "").replace("+0000", "Z")
    (RESULTS / f"live-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(
        f"\nload average (1 min): {results['load_average_before']:.2f} before, "
        f"{results['load_average_after']:.2f} after"
    )
    print(f"saved bench/results/live-{stamp}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
