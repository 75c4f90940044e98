"""The measurements, one function per metric of ``bench/README.md``. Each takes a running
server (or none, where the metric starts its own) and returns JSON-ready records."""

from __future__ import annotations

import json
import math
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.cpu import tree_cpu_seconds
from bench.projects import (
    BENCH_ROOM,
    REPO_ROOT,
    SHARED_CONFIGS,
    build_grove_project,
    build_otree_project,
)
from bench.servers import REST_KEY, RunningServer, compile_bytecode, scratch_env
from bench.setup_calls import create_session, run_flow, start_participants
from bench.wrk import WrkResult, run_wrk

FORM_BODY = "answer=42"
VARS = {"age": 25, "consent": True, "source": "qualtrics"}
VARS_BODY = json.dumps({"vars": VARS})
JSON_HEADERS = {"Content-Type": "application/json", "otree-rest-key": REST_KEY}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def _answers_saved(database: Path | None) -> int | None:
    """How many bench_form players have the benchmark's answer stored (None: no database)."""
    if database is None or not database.exists():
        return None
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute(
            "SELECT count(*) FROM bench_form_player WHERE answer = 42"
        ).fetchone()[0]


def timed_wrk(server: RunningServer, paths: list[str], **options: Any) -> dict[str, Any]:
    """``run_wrk`` on the server, its record with the server's CPU milliseconds per request
    (user plus system time of all its processes, from ``/proc``) and the ``WrkResult``."""
    before = tree_cpu_seconds(server.process.pid)
    result = run_wrk(server.base_url, paths, **options)
    cpu = tree_cpu_seconds(server.process.pid) - before
    record = result.as_dict()
    record["server_cpu_ms"] = round(1000 * cpu / max(1, result.requests), 3)
    record["wrk"] = result
    return record


def _record(timed: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in timed.items() if key != "wrk"}


def label_bodies(count: int) -> list[str]:
    """Qualtrics-style participant_vars bodies for the benchmark room, a new label each."""
    return [
        json.dumps({"room_name": BENCH_ROOM, "participant_label": f"P{i:05d}", "vars": VARS})
        for i in range(count)
    ]


def fresh_participants(server: RunningServer, count: int, chunk: int = 5_000) -> list[str]:
    """Codes of ``count`` new bench_form participants, in sessions of at most ``chunk``."""
    codes: list[str] = []
    while len(codes) < count:
        codes += create_session(server, "bench_form", min(chunk, count - len(codes)))[1]
    return codes


def form_page(server: RunningServer, concurrencies: list[int], seconds: float) -> dict:
    """GET and valid POST of a one-field page at each number of concurrent clients."""
    results: dict[str, dict] = {}
    _, codes = create_session(server, "bench_form", 100)
    get_paths = start_participants(server, codes)
    for clients in concurrencies:
        timed = timed_wrk(server, get_paths, connections=clients, seconds=seconds)
        got: WrkResult = timed["wrk"]
        results[f"get_c{clients}"] = _record(timed)
        # Every POST needs a participant still on the form: provide more than can be used,
        # and if wrk still used them all up, run again with four times as many.
        needed = min(30_000, math.ceil(got.rate * seconds * 1.5) + 4 * clients)
        for _ in range(4):
            post_paths = start_participants(server, fresh_participants(server, needed))
            before = _answers_saved(server.database) or 0
            timed = timed_wrk(
                server,
                post_paths,
                connections=clients,
                seconds=seconds,
                method="POST",
                body=FORM_BODY,
                headers=FORM_HEADERS,
                once=True,
            )
            posted: WrkResult = timed["wrk"]
            exhausted = posted.requests >= len(post_paths)
            if not exhausted or needed >= 30_000:
                break
            needed = min(30_000, needed * 4)
        record = _record(timed)
        record["participants_provided"] = len(post_paths)
        record["exhausted"] = exhausted
        saved = _answers_saved(server.database)
        record["answers_saved"] = None if saved is None else saved - before
        results[f"post_c{clients}"] = record
    return results


def participant_vars(server: RunningServer, clients: int, seconds: float) -> dict:
    """POST /api/participant_vars/ by room and label, and by participant code."""
    bodies = label_bodies(20_000)
    by_label = timed_wrk(
        server,
        ["/api/participant_vars"] * len(bodies),
        connections=clients,
        seconds=seconds,
        method="POST",
        bodies=bodies,
        headers=JSON_HEADERS,
    )
    _, codes = create_session(server, "bench_form", 200)
    by_code = timed_wrk(
        server,
        [f"/api/participant_vars/{code}" for code in codes],
        connections=clients,
        seconds=seconds,
        method="POST",
        body=VARS_BODY,
        headers=JSON_HEADERS,
    )
    return {f"by_label_c{clients}": _record(by_label), f"by_code_c{clients}": _record(by_code)}


def session_creation(
    server: RunningServer, sizes: list[tuple[int, int]], concurrent_size: int, get_clients: int
) -> dict:
    """POST /api/sessions/ at each size; page GET latency during one more large creation."""
    _, codes = create_session(server, "bench_form", 50)
    page_paths = start_participants(server, codes)
    return run_flow(
        {
            "flow": "create_sessions",
            "base_url": server.base_url,
            "rest_key": REST_KEY,
            "config": "trust",
            "sizes": sizes,
            "page_paths": page_paths,
            "concurrent_size": concurrent_size,
            "get_clients": get_clients,
        }
    )


def wait_page(server: RunningServer, groups: int, python: Path | None) -> dict:
    """From the last player's arrival to every player of the group on the next page."""
    _, codes = create_session(server, "bench_wait", 3 * groups)
    grouped = [codes[i : i + 3] for i in range(0, len(codes), 3)]
    return run_flow(
        {
            "flow": "wait_page",
            "base_url": server.base_url,
            "server": server.name,
            "groups": grouped,
        },
        python,
    )


def floor(server: RunningServer, concurrencies: list[int], seconds: float) -> dict:
    """The bare Starlette endpoint: GET, and POST of the participant_vars JSON body."""
    results = {}
    for clients in concurrencies:
        results[f"get_c{clients}"] = _record(
            timed_wrk(server, ["/"], connections=clients, seconds=seconds)
        )
        results[f"post_c{clients}"] = _record(
            timed_wrk(
                server,
                ["/"],
                connections=clients,
                seconds=seconds,
                method="POST",
                body=VARS_BODY,
                headers=JSON_HEADERS,
            )
        )
    return results


def _urn_paths(study: str, count: int, prefix: str) -> list[str]:
    """``count`` urn API calls, each with a new id (``prefix`` and a number)."""
    levels = [("18-40", "Male"), ("41-65", "Female"), ("65+", "Male"), ("18-40", "Female")]
    paths = []
    for i in range(count):
        age_group, sex = levels[i % len(levels)]
        query = urlencode(
            {
                "api_key": REST_KEY,
                "study": study,
                "id": f"{prefix}{i:06d}",
                "age_group": age_group,
                "sex": sex,
            }
        )
        paths.append(f"/study_participants?{query}")
    return paths


def urn_warm_up(server: RunningServer, study: str, clients: int, seconds: float = 1.0) -> None:
    """An unmeasured second of urn draws (ids of their own), so that each worker's first
    draw (numpy's import, the API's route table, the study's parsed configuration) is not
    counted in a five-second window, as the other metrics' set-up calls warm their routes."""
    run_wrk(
        server.base_url,
        _urn_paths(study, 5_000, "W"),
        connections=clients,
        seconds=seconds,
        method="POST",
        once=True,
    )


def urn_api(
    server: RunningServer,
    study: str,
    clients: int,
    seconds: float,
    max_draws: int,
    *,
    warm_up: bool = True,
) -> dict:
    """Urn randomizations per second through POST /study_participants (every id new), after
    :func:`urn_warm_up` (``warm_up``; ``bench.ab`` runs it itself, before its CPU count)."""
    if warm_up:
        urn_warm_up(server, study, clients)
    paths = _urn_paths(study, max_draws, "B")
    timed = timed_wrk(server, paths, connections=clients, seconds=seconds, method="POST", once=True)
    result: WrkResult = timed["wrk"]
    record = _record(timed)
    record["exhausted"] = result.requests >= len(paths)
    return record


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str, int]:
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False, env=env
    )
    return (
        time.perf_counter() - started,
        completed.stdout + completed.stderr,
        completed.returncode,
    )


def bot_runs(folder: Path, otree_bin: Path | None) -> dict:
    """Wall time of one command running the bots of every config, on each server.

    Both run the same four sample configs (the ones oTree can run) in one process each:
    ``python -m server test`` and ``otree test``. Grove's run over all of its sample configs
    (with the urn trial) is reported too.
    """
    results: dict[str, object] = {"configs": list(SHARED_CONFIGS)}
    compile_bytecode(REPO_ROOT)
    grove_project = build_grove_project(folder / "grove_bots", SHARED_CONFIGS)
    env = {**scratch_env(), "GROVE_PROJECT_ROOT": str(grove_project)}
    seconds, output, code = _timed([sys.executable, "-m", "server", "test"], REPO_ROOT, env)
    if code != 0:
        raise RuntimeError(f"Grove's bots failed:\n{output[-2000:]}")
    results["grove"] = {
        "total_s": seconds,
        "summary": [line for line in output.splitlines() if ": OK" in line],
    }
    seconds, output, code = _timed(
        [sys.executable, "-m", "server", "test"], REPO_ROOT, scratch_env()
    )
    if code != 0:
        raise RuntimeError(f"Grove's bots failed on the sample project:\n{output[-2000:]}")
    results["grove_all_sample_configs"] = {"total_s": seconds}
    if otree_bin is not None:
        otree_project = build_otree_project(folder / "otree_bots", SHARED_CONFIGS)
        seconds, output, code = _timed(
            [str(otree_bin), "test"], otree_project, scratch_env(otree_bin.parent)
        )
        # oTree's exit status is not always 0 after a clean run; its output says.
        if output.count("Bots completed session") < len(SHARED_CONFIGS) or "Traceback" in output:
            raise RuntimeError(f"oTree's bots failed (exit {code}):\n{output[-2000:]}")
        results["otree"] = {"total_s": seconds}
    return results


BOT_CONFIG = "bench_bots"
BOT_PAGES_PER_PARTICIPANT = 20  # bench/apps/bench_bots: 10 rounds of 2 pages


def bot_throughput(
    folder: Path, otree_bin: Path | None, sizes: tuple[int, int], repeats: int
) -> dict:
    """Pages the bots submit per second once started, and the start-up before the first.

    Each runner runs ``bench_bots`` (20 pages a participant) as a fresh command with ``n1``
    and with ``n2`` participants, ``repeats`` times each, alternating; with the median
    times t1 and t2, pages per second are 20 (n2 - n1) / (t2 - t1) and the start-up is the
    line's time at no participant, t1 - n1 (t2 - t1) / (n2 - n1): imports, project and
    database set-up, everything that does not grow with the participants. Grove's modules
    are compiled first (``compile_bytecode``), as oTree's were when pip installed it.
    """
    n1, n2 = sizes
    runners: dict[str, tuple[list[str], Path, dict[str, str]]] = {}
    compile_bytecode(REPO_ROOT)
    grove_project = build_grove_project(folder / "grove_bot_rate", [BOT_CONFIG])
    runners["grove"] = (
        [sys.executable, "-m", "server", "test", BOT_CONFIG],
        REPO_ROOT,
        {**scratch_env(), "GROVE_PROJECT_ROOT": str(grove_project)},
    )
    if otree_bin is not None:
        otree_project = build_otree_project(folder / "otree_bot_rate", [BOT_CONFIG])
        runners["otree"] = (
            [str(otree_bin), "test", BOT_CONFIG],
            otree_project,
            scratch_env(otree_bin.parent),
        )
    times: dict[str, dict[int, list[float]]] = {name: {n1: [], n2: []} for name in runners}
    for repeat in range(repeats):
        for name, (command, cwd, env) in runners.items():
            for n in (n1, n2) if repeat % 2 == 0 else (n2, n1):
                seconds, output, code = _timed([*command, str(n)], cwd, env)
                failed = "Traceback" in output or (
                    "Bots completed session" not in output if name == "otree" else code != 0
                )
                if failed:
                    raise RuntimeError(f"{name}'s bots failed:\n{output[-2000:]}")
                times[name][n].append(seconds)
    results: dict[str, object] = {
        "config": BOT_CONFIG,
        "pages_per_participant": BOT_PAGES_PER_PARTICIPANT,
        "participants": [n1, n2],
        "repeats": repeats,
    }
    for name, by_size in times.items():
        t1, t2 = (statistics.median(by_size[n]) for n in (n1, n2))
        per_participant = (t2 - t1) / (n2 - n1)
        results[name] = {
            "times_s": {str(n): [round(t, 2) for t in by_size[n]] for n in (n1, n2)},
            "pages_per_s": round(BOT_PAGES_PER_PARTICIPANT / per_participant, 1)
            if per_participant > 0
            else None,
            "startup_s": round(t1 - n1 * per_participant, 2),
        }
    return results
