"""Profiles of Grove's hot paths under load: py-spy samples a one-worker server while wrk
(or a loop of REST calls) drives one path, or samples the bot runner itself, and the top
functions by own and by total time are printed and saved under
``bench/results/profiles/<date>-<commit>/<path>.txt``. Only samples of threads holding the
GIL count (``--gil``): the CPU that Python spends, not threads waiting for a lock or for the
network.

Paths: ``page_get``, ``page_post``, ``vars_label``, ``vars_code`` and ``urn`` (wrk, 10
clients), ``session_create`` (2,000-participant ``trust`` sessions, one after another) and
``bots`` (``python -m server test`` over the sample configs, start-up included).

Run: ``python -m bench.profile_paths [--seconds 8] [--paths page_get,bots]`` or
``python -m bench --profile``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from bench import metrics
from bench.ab import WORKTREE, Revision, export, seed_urn
from bench.projects import REPO_ROOT, SHARED_CONFIGS, build_grove_project
from bench.servers import REST_KEY, RunningServer, compile_bytecode, grove_server, scratch_env
from bench.setup_calls import create_session, start_participants
from bench.wrk import run_wrk

OUT = Path(__file__).resolve().parent / "results" / "profiles"
PATHS = [
    "page_get",
    "page_post",
    "vars_label",
    "vars_code",
    "urn",
    "session_create",
    "bots",
]


def _prepare(server: RunningServer, path_name: str, seconds: float) -> Callable[[], object]:
    """Set up what the path needs (not profiled); return the load to run while sampling."""
    clients = 10
    base = server.base_url
    if path_name == "page_get":
        _, codes = create_session(server, "bench_form", 100)
        paths = start_participants(server, codes)
        return lambda: run_wrk(base, paths, connections=clients, seconds=seconds)
    if path_name == "page_post":
        paths = start_participants(server, metrics.fresh_participants(server, 6000))
        return lambda: run_wrk(
            base,
            paths,
            connections=clients,
            seconds=seconds,
            method="POST",
            body=metrics.FORM_BODY,
            headers=metrics.FORM_HEADERS,
            once=True,
        )
    if path_name == "vars_label":
        bodies = metrics.label_bodies(20_000)
        return lambda: run_wrk(
            base,
            ["/api/participant_vars"] * len(bodies),
            connections=clients,
            seconds=seconds,
            method="POST",
            bodies=bodies,
            headers=metrics.JSON_HEADERS,
        )
    if path_name == "vars_code":
        _, codes = create_session(server, "bench_form", 200)
        paths = [f"/api/participant_vars/{code}" for code in codes]
        return lambda: run_wrk(
            base,
            paths,
            connections=clients,
            seconds=seconds,
            method="POST",
            body=metrics.VARS_BODY,
            headers=metrics.JSON_HEADERS,
        )
    if path_name == "urn":
        study = server.study  # type: ignore[attr-defined]
        metrics.urn_warm_up(server, study, clients)
        return lambda: metrics.urn_api(server, study, clients, seconds, 40_000, warm_up=False)
    if path_name == "session_create":
        return lambda: _create_sessions(server, seconds)
    raise SystemExit(f"unknown path {path_name!r}")


def _create_sessions(server: RunningServer, seconds: float) -> None:
    """2,000-participant ``trust`` sessions, one after another, for ``seconds`` (two at
    least)."""
    started = time.monotonic()
    with httpx.Client(
        base_url=server.base_url, timeout=600, headers={"otree-rest-key": REST_KEY}
    ) as client:
        made = 0
        while made < 2 or time.monotonic() - started < seconds:
            body = {"session_config_name": "trust", "num_participants": 2000}
            client.post("/api/sessions", json=body).raise_for_status()
            made += 1


# Leaf frames of threads that wait for work: idle time, not cost.
_IDLE = (
    "Condition.wait",
    "Queue.get",
    "select (selectors.py",
    "EpollSelector.select",
    "_run_once",
    "sleep",
)


def summarize(collapsed: str, top: int = 25) -> str:
    """Top functions by own samples and by total samples, from py-spy's raw output."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if frames[-1].startswith(_IDLE):
            continue  # a thread or the event loop waiting for work
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [f"{samples} busy samples", "", "own time:"]
    lines += [f"  {100 * n / samples:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "total time (including callees):"]
    lines += [f"  {100 * n / samples:5.1f}%  {frame}" for frame, n in total.most_common(top)]
    lines += ["", "total time of Grove's own functions (server/):"]
    lines += [
        f"  {100 * n / samples:5.1f}%  {frame}"
        for frame, n in total.most_common()
        if "(server/" in frame
    ][:top]
    return "\n".join(lines)


def _py_spy(raw: Path, target: list[str]) -> list[str]:
    return [
        shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--rate",
        "250",
        "--gil",
        "--format",
        "raw",
        "--output",
        str(raw),
        *target,
    ]


def _profile_bots(folder: Path, source: Path) -> str:
    """py-spy runs ``python -m server test`` over the four configs oTree also runs."""
    compile_bytecode(source)
    project = build_grove_project(folder / "project_bots", SHARED_CONFIGS, root=source)
    raw = folder / "bots.txt"
    env = {**scratch_env(), "GROVE_PROJECT_ROOT": str(project), "PYTHONPATH": str(source)}
    command = _py_spy(raw, ["--", sys.executable, "-m", "server", "test"])
    completed = subprocess.run(command, cwd=source, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"the bots failed:\n{completed.stderr[-2000:]}")
    return summarize(raw.read_text() if raw.exists() else "")


def profile(path_name: str, seconds: float, folder: Path, source: Path = REPO_ROOT) -> str:
    """Profile one path on a fresh one-worker server of the source tree ``source``; return
    the summary text."""
    if path_name == "bots":
        return _profile_bots(folder, source)
    project = build_grove_project(folder / f"project_{path_name}", root=source)
    data = folder / f"data_{path_name}"
    data.mkdir()
    study = None
    if path_name == "urn":
        study = seed_urn(source, project, f"sqlite:///{data / 'grove.sqlite3'}", 100)
    with grove_server(project, data, workers=1, source=source) as server:
        server.study = study  # type: ignore[attr-defined]
        raw = folder / f"{path_name}.txt"
        load = _prepare(server, path_name, seconds)
        sampler = subprocess.Popen(
            _py_spy(raw, ["--pid", str(server.process.pid)]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches
        load()
        sampler.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        sampler.wait(timeout=60)
    return summarize(raw.read_text() if raw.exists() else "")


def output_folder(revision: Revision, label: str | None = None) -> Path:
    """``bench/results/profiles/<date>-<commit>[-label]``: the commit profiled, with
    ``+changes`` for a working tree with uncommitted changes."""
    commit = revision.commit[:10] + ("+changes" if revision.commit.endswith("+changes") else "")
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%MZ")
    return OUT / f"{date}-{commit}{f'-{label}' if label else ''}"


def main(argv: list[str] | None = None) -> int:
    """Profile each path, print and save the summaries."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_paths",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated")
    parser.add_argument(
        "--revision",
        default=WORKTREE,
        help=f"a commit to export and profile (default {WORKTREE}: this working tree)",
    )
    parser.add_argument("--label", help="appended to the folder's name (before, after, ...)")
    args = parser.parse_args(argv)
    for path_name in args.paths.split(","):
        if path_name not in PATHS:
            parser.error(f"unknown path {path_name!r}: one of {', '.join(PATHS)}")
    revision = export(args.revision)
    out = output_folder(revision, args.label)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grove-profile-") as tmp:
        for path_name in args.paths.split(","):
            summary = profile(path_name, args.seconds, Path(tmp), revision.source)
            (out / f"{path_name}.txt").write_text(summary + "\n")
            print(f"== {path_name}\n{summary}\n")
    print(f"saved {out.relative_to(REPO_ROOT)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
