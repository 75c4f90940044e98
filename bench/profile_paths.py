"""Profiles of Grove's hot paths under load: py-spy samples a one-worker server while wrk
drives one path, and the top functions by own and by total time are printed and saved under
``bench/results/profiles/``.

Run: ``python -m bench.profile_paths [--seconds 8] [--paths page_get,page_post,vars_label]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench import metrics
from bench.projects import BENCH_ROOM, build_grove_project
from bench.servers import RunningServer, grove_server
from bench.setup_calls import create_session, start_participants
from bench.wrk import run_wrk

OUT = Path(__file__).resolve().parent / "results" / "profiles"


def _load(server: RunningServer, path_name: str, seconds: float) -> None:
    clients = 10
    if path_name == "page_get":
        _, codes = create_session(server, "bench_form", 100)
        run_wrk(server.base_url, start_participants(server, codes), connections=clients,
                seconds=seconds)
    elif path_name == "page_post":
        _, codes = create_session(server, "bench_form", 8000)
        run_wrk(server.base_url, start_participants(server, codes), connections=clients,
                seconds=seconds, method="POST", body=metrics.FORM_BODY,
                headers=metrics.FORM_HEADERS, once=True)
    elif path_name == "vars_label":
        bodies = [f'{{"room_name": "{BENCH_ROOM}", "participant_label": "L{i}", '
                  f'"vars": {{"age": 25}}}}' for i in range(20_000)]
        run_wrk(server.base_url, ["/api/participant_vars"] * len(bodies), connections=clients,
                seconds=seconds, method="POST", bodies=bodies, headers=metrics.JSON_HEADERS)
    elif path_name == "vars_code":
        _, codes = create_session(server, "bench_form", 200)
        run_wrk(server.base_url, [f"/api/participant_vars/{code}" for code in codes],
                connections=clients, seconds=seconds, method="POST", body=metrics.VARS_BODY,
                headers=metrics.JSON_HEADERS)
    else:
        raise SystemExit(f"unknown path {path_name!r}")


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
        if any("select" in f and "selectors.py" in f for f in frames[-2:]):
            continue  # the event loop waiting for the network: idle, not work
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [f"{samples} busy samples", "", "own time:"]
    lines += [f"  {100 * n / samples:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "total time (including callees):"]
    lines += [f"  {100 * n / samples:5.1f}%  {frame}" for frame, n in total.most_common(top)]
    return "\n".join(lines)


def profile(path_name: str, seconds: float, folder: Path) -> str:
    """Profile one path on a fresh one-worker server; return the summary text."""
    project = build_grove_project(folder / f"project_{path_name}")
    data = folder / f"data_{path_name}"
    data.mkdir()
    with grove_server(project, data, workers=1) as server:
        raw = folder / f"{path_name}.txt"
        sampler = subprocess.Popen(
            [shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record",
             "--pid", str(server.process.pid), "--duration", str(int(seconds) + 20),
             "--rate", "250", "--format", "raw", "--output", str(raw), "--threads"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        loader = threading.Thread(target=_load, args=(server, path_name, seconds))
        loader.start()
        loader.join()
        sampler.terminate()
        sampler.wait(timeout=30)
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
