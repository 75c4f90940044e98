"""Paired A/B runs: one metric on two revisions of Grove, interleaved, with the medians.

``python -m bench.ab [A] [B] --metric page_get`` exports each revision (``git archive`` into
``/tmp/grove-ab/<commit>``; ``WORKTREE`` is this working tree as it is, uncommitted changes
included) and runs the metric ``--pairs`` times on each, alternating which goes first (A B,
B A, A B, ...), each run on a fresh server of that revision with a fresh database. The
servers run this venv's interpreter from the export; the load, the benchmark apps and the
measuring are this tree's ``bench/``, the same for both. Per run: requests per second, p50
and p99 latency, and the server's CPU time per request (user plus system time of the server
processes, workers included, read from ``/proc`` before and after the load: much less
sensitive to other load on the machine than the rate; on PostgreSQL the database server's is
given too). Prints each pair and the medians, and saves the run as JSON under
``bench/results/ab/``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import metrics, wait_release
from bench.cpu import postmaster_pid, tree_cpu_seconds
from bench.machine import describe_machine
from bench.projects import REPO_ROOT, build_grove_project
from bench.servers import REST_KEY, RunningServer, compile_bytecode, grove_server, scratch_env
from bench.setup_calls import create_session, run_flow, start_participants
from bench.wrk import run_wrk

RESULTS = Path(__file__).resolve().parent / "results" / "ab"
EXPORTS = Path(tempfile.gettempdir()) / "grove-ab"
WORKTREE = "WORKTREE"


@dataclass
class Revision:
    """A revision under test: what was asked for, its commit, and its source tree."""

    name: str
    commit: str
    source: Path


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def export(name: str) -> Revision:
    """The source tree of ``name``: this working tree for ``WORKTREE``, otherwise an export
    of the commit (made once, kept in ``/tmp/grove-ab/<commit>`` for later runs)."""
    head = _git("rev-parse", "HEAD")
    if name == WORKTREE:
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
        return Revision(name, head + ("+changes" if dirty else ""), REPO_ROOT)
    commit = _git("rev-parse", "--verify", f"{name}^{{commit}}")
    folder = EXPORTS / commit
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        with subprocess.Popen(
            ["git", "archive", "--format=tar", commit], cwd=REPO_ROOT, stdout=subprocess.PIPE
        ) as archive:
            subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
        if archive.returncode != 0:
            raise SystemExit(f"git archive {commit} failed")
        (folder / ".commit").write_text(commit + "\n")  # for bench/machine.py, without git
        (folder / ".complete").touch()
    return Revision(name, commit, folder)


def _load_average() -> float:
    return os.getloadavg()[0]


@dataclass
class Load:
    """A prepared measurement: ``run()`` applies the load and returns its figures, with
    ``requests`` (what the CPU time is divided by), ``rate``, ``p50_ms`` and ``p99_ms``."""

    run: Callable[[], dict[str, Any]]
    warm_up: Callable[[], object] = lambda: None


def _wrk_figures(result: Any, **extra: Any) -> dict[str, Any]:
    record = result.as_dict()  # with "not_ok": answers other than 2xx and 3xx
    record.update(extra)
    return record


def _page_get(server: RunningServer, options: argparse.Namespace) -> Load:
    _, codes = create_session(server, "bench_form", 100)
    paths = start_participants(server, codes)
    return Load(
        lambda: _wrk_figures(
            run_wrk(server.base_url, paths, connections=options.clients, seconds=options.seconds)
        ),
        lambda: run_wrk(server.base_url, paths, connections=options.clients, seconds=1),
    )


def _page_post(server: RunningServer, options: argparse.Namespace) -> Load:
    # Every POST a real submission: more participants on the form than can be used.
    provided = options.post_participants or int(900 * options.seconds) + 4 * options.clients
    warm_paths, paths = _split(
        start_participants(server, metrics.fresh_participants(server, provided + 200)), 200
    )

    def post(chosen: list[str], seconds: float) -> Any:
        return run_wrk(
            server.base_url,
            chosen,
            connections=options.clients,
            seconds=seconds,
            method="POST",
            body=metrics.FORM_BODY,
            headers=metrics.FORM_HEADERS,
            once=True,
        )

    def run() -> dict[str, Any]:
        result = post(paths, options.seconds)
        # Used up early: the rate is still right (wrk's time ends with the last request),
        # but the run was shorter than asked; --post-participants gives more.
        return _wrk_figures(result, exhausted=result.requests >= len(paths) - 2)

    return Load(run, lambda: post(warm_paths, 1))


def _split(items: list[str], count: int) -> tuple[list[str], list[str]]:
    return items[:count], items[count:]


def _vars_by_label(
    server: RunningServer, options: argparse.Namespace, bodies: list[str], seconds: float
) -> Any:
    return run_wrk(
        server.base_url,
        ["/api/participant_vars"] * len(bodies),
        connections=options.clients,
        seconds=seconds,
        method="POST",
        bodies=bodies,
        headers=metrics.JSON_HEADERS,
    )


def _vars_label(server: RunningServer, options: argparse.Namespace) -> Load:
    # A new label each request (Qualtrics' call before the participant exists); the
    # warm-up's labels are others.
    warm, bodies = _split(metrics.label_bodies(max(2_000, int(3_000 * options.seconds))), 1_000)
    return Load(
        lambda: _wrk_figures(_vars_by_label(server, options, bodies, options.seconds)),
        lambda: _vars_by_label(server, options, warm, 1),
    )


def _vars_code(server: RunningServer, options: argparse.Namespace) -> Load:
    _, codes = create_session(server, "bench_form", 200)
    paths = [f"/api/participant_vars/{code}" for code in codes]

    def post(seconds: float) -> Any:
        return run_wrk(
            server.base_url,
            paths,
            connections=options.clients,
            seconds=seconds,
            method="POST",
            body=metrics.VARS_BODY,
            headers=metrics.JSON_HEADERS,
        )

    return Load(lambda: _wrk_figures(post(options.seconds)), lambda: post(1))


def _urn(server: RunningServer, options: argparse.Namespace) -> Load:
    study = server.study  # type: ignore[attr-defined]
    return Load(
        lambda: metrics.urn_api(
            server,
            study,
            options.clients,
            options.seconds,
            int(3_000 * options.seconds) + 100,
            warm_up=False,
        ),
        lambda: metrics.urn_warm_up(server, study, options.clients),
    )


def _session_create(server: RunningServer, options: argparse.Namespace) -> Load:
    """``POST /api/sessions`` of ``--participants`` in the ``trust`` config, one after
    another for ``--seconds`` (at least 3 times): sessions per second, p50/p99 of one."""

    def run() -> dict[str, Any]:
        times: list[float] = []
        started = time.perf_counter()
        with httpx.Client(
            base_url=server.base_url, timeout=600, headers={"otree-rest-key": REST_KEY}
        ) as client:
            while len(times) < 3 or time.perf_counter() - started < options.seconds:
                before = time.perf_counter()
                response = client.post(
                    "/api/sessions",
                    json={"session_config_name": "trust", "num_participants": options.participants},
                )
                times.append((time.perf_counter() - before) * 1000)
                if response.status_code >= 300:
                    raise RuntimeError(f"session creation: {response.status_code}")
        elapsed = time.perf_counter() - started
        return {
            "requests": len(times),
            "rate": round(len(times) / elapsed, 2),
            **_percentiles(times),
            "not_ok": 0,
        }

    return Load(run, lambda: create_session(server, "trust", 10))


def _wait(server: RunningServer, options: argparse.Namespace) -> Load:
    """Wait page release (``bench/wait_release.py``): last arrival's answer to each waiting
    member's status answer; ``requests`` counts the releases' HTTP requests."""
    players = options.groups * 4
    _, codes = create_session(server, "bench_release", players)

    def run() -> dict[str, Any]:
        result = asyncio.run(wait_release._run(server.base_url, codes, 4, options.rounds))
        # Per player and round: the POST, the status hold (or not, for the last) and the
        # wait page's reload with its redirect.
        requests = players * options.rounds * 4
        return {
            "requests": requests,
            "rate": round(result["releases"] / result["seconds"], 1),
            "p50_ms": result["p50_ms"],
            "p99_ms": result["p99_ms"],
            "not_ok": result["not_released"],
            "releases": result["releases"],
        }

    return Load(run)


def _wait_page(server: RunningServer, options: argparse.Namespace) -> Load:
    """Metric 4 of ``python -m bench`` (``metrics.wait_page``): ``--wait-groups`` groups of
    three, from the last arrival's POST to every member's next page loaded. ``requests``
    counts the groups, so the CPU figure is per group moved on (the HTTP requests a group
    takes differ between revisions)."""

    _, codes = create_session(server, "bench_wait", 3 * options.wait_groups)
    job = {
        "flow": "wait_page",
        "base_url": server.base_url,
        "server": "grove",
        "groups": [codes[i : i + 3] for i in range(0, len(codes), 3)],
    }

    def run() -> dict[str, Any]:
        started = time.perf_counter()
        result = run_flow(job)
        return {
            "requests": options.wait_groups,
            "rate": round(len(result["latencies_ms"]) / (time.perf_counter() - started), 2),
            "p50_ms": result["p50_ms"],
            "p99_ms": result["p99_ms"],
            "not_ok": result["failed_groups"],
        }

    return Load(run)


METRICS: dict[str, Callable[[RunningServer, argparse.Namespace], Load]] = {
    "page_get": _page_get,
    "page_post": _page_post,
    "vars_label": _vars_label,
    "vars_code": _vars_code,
    "urn": _urn,
    "session_create": _session_create,
    "wait_release": _wait,
    "wait_page": _wait_page,
    "bots": lambda server, options: Load(lambda: {}),  # no server: see _bots
}


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
    }


def seed_urn(source: Path, project: Path, database_url: str, prior: int) -> str:
    """A study with ``prior`` assignments, written by the code of the source tree ``source``
    (its schema), in a process of its own."""
    code = (
        "import sys; from pathlib import Path; from bench.urn_throughput import seed_history; "
        "print(seed_history(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, database_url, str(prior), str(project)],
        cwd=source,
        env={**os.environ, "PYTHONPATH": str(source)},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"seeding the urn failed:\n{completed.stderr[-2000:]}")
    return completed.stdout.strip().splitlines()[-1]


@contextmanager
def _fresh_server(
    revision: Revision, options: argparse.Namespace, folder: Path, postgres: str | None
) -> Iterator[RunningServer]:
    """A new server of ``revision`` on a new database, with its project built."""
    folder.mkdir(parents=True)
    if options.metric == "wait_release":
        players = options.groups * 4
        project = wait_release.build_project(folder / "project", players, 4, options.rounds)
    else:
        project = build_grove_project(folder / "project", root=revision.source)
    database_url = None
    with ExitStack() as stack:
        if postgres:
            from tests.postgres import create_database, drop_database

            database_url = create_database(postgres)
            stack.callback(drop_database, database_url)
        url = database_url or f"sqlite:///{folder / 'grove.sqlite3'}"
        study = None
        if options.metric == "urn":
            study = seed_urn(revision.source, project, url, options.prior)
        server = stack.enter_context(
            grove_server(
                project,
                folder,
                workers=options.workers,
                database_url=database_url,
                source=revision.source,
            )
        )
        server.study = study  # type: ignore[attr-defined]
        yield server


def measure_once(
    revision: Revision, options: argparse.Namespace, folder: Path, postgres: str | None
) -> dict[str, Any]:
    """One run of the metric on a fresh server of ``revision``: its figures, with the
    server's (and the database server's) CPU milliseconds per request."""
    if options.metric == "bots":
        return _bots(revision, options, folder)
    with _fresh_server(revision, options, folder, postgres) as server:
        load = METRICS[options.metric](server, options)
        load.warm_up()
        database_pid = postmaster_pid(int(postgres.rsplit(":", 1)[1])) if postgres else None
        time.sleep(0.5)  # let the set-up's last writes settle
        load_before = _load_average()
        cpu_before = tree_cpu_seconds(server.process.pid)
        db_before = tree_cpu_seconds(database_pid) if database_pid else 0.0
        figures = load.run()
        cpu = tree_cpu_seconds(server.process.pid) - cpu_before
        db_cpu = (tree_cpu_seconds(database_pid) - db_before) if database_pid else None
    requests = max(1, figures["requests"])
    figures["server_cpu_ms_per_request"] = round(1000 * cpu / requests, 3)
    if db_cpu is not None:
        figures["database_cpu_ms_per_request"] = round(1000 * db_cpu / requests, 3)
    figures["load_average"] = round(load_before, 2)
    return figures


def _bots(revision: Revision, options: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """``python -m server test bench_bots N`` of the revision, a fresh process start-up
    included: pages per second, the command's wall time (as p50) and its CPU per page."""
    compile_bytecode(revision.source)
    project = build_grove_project(folder / "project", [metrics.BOT_CONFIG], root=revision.source)
    env = {
        **scratch_env(),
        "GROVE_PROJECT_ROOT": str(project),
        "PYTHONPATH": str(revision.source),
    }
    command = [sys.executable, "-m", "server", "test", metrics.BOT_CONFIG]
    load_before = _load_average()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [*command, str(options.bot_participants)],
        cwd=revision.source,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"the bots failed:\n{(completed.stdout + completed.stderr)[-2000:]}")
    pages = options.bot_participants * metrics.BOT_PAGES_PER_PARTICIPANT
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "requests": pages,
        "rate": round(pages / seconds, 1),
        "p50_ms": round(seconds * 1000, 1),
        "p99_ms": None,
        "server_cpu_ms_per_request": round(1000 * cpu / pages, 3),
        "not_ok": 0,
        "load_average": round(load_before, 2),
    }


def _ratio(b: float | None, a: float | None) -> float | None:
    return round(b / a, 3) if a and b is not None else None


def summarize(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of A's and B's figures, and the median of the per-pair ratios B/A."""
    keys = ["rate", "p50_ms", "p99_ms", "server_cpu_ms_per_request", "database_cpu_ms_per_request"]
    summary: dict[str, Any] = {}
    for key in keys:
        a = [pair["A"][key] for pair in pairs if pair["A"].get(key) is not None]
        b = [pair["B"][key] for pair in pairs if pair["B"].get(key) is not None]
        if not a or not b:
            continue
        ratios = [
            r
            for r in (_ratio(pair["B"].get(key), pair["A"].get(key)) for pair in pairs)
            if r is not None
        ]
        summary[key] = {
            "A": round(statistics.median(a), 3),
            "B": round(statistics.median(b), 3),
            "B/A_median_of_pairs": round(statistics.median(ratios), 3) if ratios else None,
        }
    return summary


_COLUMNS = [
    ("rate", "req/s", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.2f}"),
    ("p99_ms", "p99 ms", "{:.2f}"),
    ("server_cpu_ms_per_request", "CPU ms/req", "{:.3f}"),
    ("database_cpu_ms_per_request", "DB CPU ms/req", "{:.3f}"),
]


def format_report(document: dict[str, Any]) -> str:
    """The pairs and the medians as a plain-text table."""
    columns = [c for c in _COLUMNS if c[0] in document["summary"]]
    header = f"{'':14}" + "".join(f"{title:>14}" for _, title, _ in columns) + f"{'load':>7}"
    lines = [
        f"{document['metric']} ({document['describe']}), A = {document['A']['name']} "
        f"({document['A']['commit'][:10]}), B = {document['B']['name']} "
        f"({document['B']['commit'][:10]})",
        header,
    ]
    for number, pair in enumerate(document["pairs"], 1):
        for side in pair["order"]:
            figures = pair[side]
            cells = "".join(
                f"{(fmt.format(figures[key]) if figures.get(key) is not None else '-'):>14}"
                for key, _, fmt in columns
            )
            flag = "  not ok: {}".format(figures["not_ok"]) if figures.get("not_ok") else ""
            if figures.get("exhausted"):
                flag += "  (used up its participants)"
            lines.append(
                f"pair {number} {side:<7}{cells}{figures.get('load_average', 0):>7.1f}{flag}"
            )
    lines.append("")
    for side in ("A", "B"):
        cells = "".join(
            f"{fmt.format(document['summary'][key][side]):>14}" for key, _, fmt in columns
        )
        lines.append(f"median {side:<7}{cells}")
    cells = "".join(
        f"{document['summary'][key]['B/A_median_of_pairs'] or 0:>13.3f}x" for key, _, _ in columns
    )
    lines.append(f"B/A (pairs)   {cells}")
    return "\n".join(lines)


def _describe(options: argparse.Namespace) -> str:
    where = f"{options.database}, {options.workers} worker{'s' * (options.workers != 1)}"
    if options.metric in ("page_get", "page_post", "vars_label", "vars_code", "urn"):
        where += f", {options.clients} clients, {options.seconds:g} s"
    if options.metric == "urn":
        where += f", {options.prior:,} prior assignments"
    if options.metric == "session_create":
        where += f", {options.participants} participants, {options.seconds:g} s"
    if options.metric == "wait_release":
        where += f", {options.groups} groups of 4, {options.rounds} rounds"
    if options.metric == "wait_page":
        where += f", {options.wait_groups} groups of 3; CPU: per group"
    if options.metric == "bots":
        where = (
            f"python -m server test bench_bots {options.bot_participants}, start-up included; "
            "p50: the command's wall time; CPU: per page submitted"
        )
    return where


def run(options: argparse.Namespace) -> dict[str, Any]:
    """Export both revisions, run the pairs, return the results document."""
    revisions = {"A": export(options.a), "B": export(options.b)}
    document: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "metric": options.metric,
        "describe": _describe(options),
        "options": {k: v for k, v in vars(options).items() if k not in ("a", "b")},
        "A": {"name": options.a, "commit": revisions["A"].commit},
        "B": {"name": options.b, "commit": revisions["B"].commit},
        "pairs": [],
    }
    with tempfile.TemporaryDirectory(prefix="grove-ab-run-") as tmp, ExitStack() as stack:
        postgres = None
        if options.database == "postgresql":
            from tests.postgres import postgres_server

            postgres = stack.enter_context(postgres_server())
        for number in range(options.pairs):
            order = ("A", "B") if number % 2 == 0 else ("B", "A")
            pair: dict[str, Any] = {"order": list(order)}
            for side in order:
                print(f"[ab] pair {number + 1}: {side}", file=sys.stderr, flush=True)
                pair[side] = measure_once(
                    revisions[side], options, Path(tmp) / f"{number}{side}", postgres
                )
            document["pairs"].append(pair)
    document["summary"] = summarize(document["pairs"])
    return document


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.ab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("a", nargs="?", default="HEAD~1", help="revision A (default HEAD~1)")
    parser.add_argument(
        "b", nargs="?", default="HEAD", help=f"revision B (default HEAD; {WORKTREE}: this tree)"
    )
    parser.add_argument("--metric", choices=sorted(METRICS), default="page_get")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="load per run")
    parser.add_argument("--clients", type=int, default=10, help="concurrent wrk connections")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--prior", type=int, default=100, help="urn: prior assignments")
    parser.add_argument(
        "--participants", type=int, default=200, help="session_create: participants"
    )
    parser.add_argument(
        "--post-participants", type=int, default=0, help="page_post: fresh participants per run"
    )
    parser.add_argument(
        "--bot-participants", type=int, default=10, help="bots: participants (20 pages each)"
    )
    parser.add_argument("--groups", type=int, default=10, help="wait_release: groups of 4")
    parser.add_argument("--rounds", type=int, default=4, help="wait_release: rounds per run")
    parser.add_argument(
        "--wait-groups", type=int, default=20, help="wait_page: groups of 3 per run"
    )
    parser.add_argument("--no-save", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the A/B comparison, print it, save it under ``bench/results/ab/``."""
    options = parse_args(argv)
    document = run(options)
    print(format_report(document))
    if not options.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = document["date"].replace(":", "").replace("+0000", "Z")
        name = f"{stamp}-{options.metric}-{options.database}.json"
        (RESULTS / name).write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nsaved bench/results/ab/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
