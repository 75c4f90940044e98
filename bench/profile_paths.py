"""Profiles of Grove's hot paths under load: py-spy samples a one-worker server while wrk
drives one path, and the top functions by own and by total time are printed and saved under
``bench/results/profiles/``. Only samples of threads holding the GIL count (``--gil``): the
CPU that Python spends, not threads waiting for a lock or for the network.

Run: ``python -m bench.profile_paths [--seconds 8] [--paths page_get,page_post,vars_label]``.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench import metrics
from bench.projects import build_grove_project
from bench.servers import RunningServer, grove_server
from bench.setup_calls import create_session, start_participants
from bench.wrk import run_wrk

OUT = Path(__file__).resolve().parent / "results" / "profiles"


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
    raise SystemExit(f"unknown path {path_name!r}")


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


def profile(path_name: str, seconds: float, folder: Path) -> str:
    """Profile one path on a fresh one-worker server; return the summary text."""
    project = build_grove_project(folder / f"project_{path_name}")
    data = folder / f"data_{path_name}"
    data.mkdir()
    with grove_server(project, data, workers=1) as server:
        raw = folder / f"{path_name}.txt"
        load = _prepare(server, path_name, seconds)
        sampler = subprocess.Popen(
            [
                shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(server.process.pid),
                "--rate",
                "250",
                "--gil",
                "--format",
                "raw",
                "--output",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches
        load()
        sampler.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        sampler.wait(timeout=60)
    return summarize(raw.read_text() if raw.exists() else "")


def main(argv: list[str] | None = None) -> int:
    """Profile each path, print and save the summaries."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--paths", default="page_get,page_post,vars_label,vars_code")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grove-profile-") as tmp:
        for path_name in args.paths.split(","):
            summary = profile(path_name, args.seconds, Path(tmp))
            (OUT / f"{path_name}.txt").write_text(summary + "\n")
            print(f"== {path_name}\n{summary}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
