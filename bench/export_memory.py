"""Peak memory of a streamed export, and page latency while it runs.

    .venv/bin/python -m bench.export_memory                   # 20,000 participants
    .venv/bin/python -m bench.export_memory --participants 2000

Builds two SQLite databases of ``survey`` sessions (survey + payment_info apps; at most 10,000
participants a session), one of N/10 participants and one of N, with every survey field
filled; then, for each, starts a fresh process that streams the all-apps-wide CSV and JSON
through the ASGI app (``/api/export/all_apps_wide``) and reads its peak RSS (``ru_maxrss``).
Bounded memory shows as the same peak for both sizes. Meanwhile a thread of that process GETs a
participant's page, and its latency is compared with the latency before the export started (in
one process the export and the page share the GIL, so this is a worst case: a server with
several workers serves pages from the others). Prints one JSON object; nothing is a pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def build(project_root: Path, database_url: str, participants: int) -> None:
    """Create ``participants`` in survey sessions of at most MAX_PARTICIPANTS, with every survey
    field filled."""
    import sqlalchemy as sa

    from server.config import load_settings
    from server.db import Database
    from server.project import load_project
    from server.schema import prepare_database
    from server.sessions import MAX_PARTICIPANTS, create_session, database_info

    settings = load_settings(project_root, {"DATABASE_URL": database_url})
    project = load_project(settings)
    database = Database(settings.database_url)
    database.info.update(database_info(project))
    prepare_database(database, project)
    left = participants
    while left > 0:
        size = min(left, MAX_PARTICIPANTS)
        left -= size
        with database.transaction() as db:
            session = create_session(db, project, "survey", size)
            player = project.metadata.tables["survey_player"]
            db.execute(
                sa.update(player)
                .where(player.c.session_id == session.id)
                .values(
                    age=30,
                    gender="Female",
                    temperature=-2.5,
                    savings=40.0,
                    year_in_school="Junior",
                    satisfaction=4,
                    likes_experiments=True,
                    nickname="Ada",
                    comments="A longer comment, so that each row has some text in it.",
                )
            )
    database.dispose()


def measure(project_root: str, database_url: str, export_format: str) -> dict[str, float]:
    """In this process: page latency alone, then during one streamed export; peak RSS."""
    import sqlalchemy as sa
    from starlette.testclient import TestClient

    from server.app import create_app
    from server.config import load_settings
    from server.models.core import Participant

    app = create_app(load_settings(Path(project_root), {"DATABASE_URL": database_url}))
    with TestClient(app) as client:
        # One participant's code, read without loading the session (its REST detail would
        # load every participant and raise the peak before the export starts).
        with app.state.grove.db.read() as db:
            participant_code = db.scalars(sa.select(Participant.code).limit(1)).one()
        page = client.get(f"/InitializeParticipant/{participant_code}").url.path

        def latencies(stop: threading.Event, into: list[float]) -> None:
            while not stop.is_set():
                started = time.perf_counter()
                assert client.get(page).status_code == 200
                into.append(time.perf_counter() - started)

        alone: list[float] = []
        stop = threading.Event()
        poller = threading.Thread(target=latencies, args=(stop, alone))
        poller.start()
        time.sleep(2)
        stop.set()
        poller.join()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        during: list[float] = []
        stop = threading.Event()
        poller = threading.Thread(target=latencies, args=(stop, during))
        poller.start()
        started = time.perf_counter()
        size = 0
        with client.stream("GET", f"/api/export/all_apps_wide?format={export_format}") as response:
            for chunk in response.iter_bytes():
                size += len(chunk)
        seconds = time.perf_counter() - started
        stop.set()
        poller.join()
    app.state.grove.db.dispose()
    return {
        "export_seconds": round(seconds, 2),
        "export_megabytes": round(size / 1e6, 2),
        "peak_rss_mb_before_export": round(rss_before / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "page_ms_p50_alone": round(statistics.median(alone) * 1000, 1),
        "page_ms_p50_during_export": round(statistics.median(during or [0.0]) * 1000, 1),
        "page_ms_max_during_export": round(max(during or [0.0]) * 1000, 1),
        "page_gets_during_export": len(during),
    }


def _worker_peaks_mb(server_pid: int) -> list[float]:
    """The peak RSS (VmHWM) of each process of a server's process group but the first."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            if os.getpgid(int(status.parent.name)) != server_pid:
                continue
        except (OSError, ProcessLookupError):
            continue
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(round(int(line.split()[1]) / 1024, 1))
    return sorted(peaks)


def measure_served(
    project_root: Path, database: Path, export_format: str, workers: int
) -> dict[str, Any]:
    """With ``python -m server prodserver --workers N`` on ``database``: a page's latency over
    HTTP alone and while the export streams; each process's peak RSS before and after."""
    import urllib.request

    import sqlalchemy as sa

    from bench.servers import REST_KEY, grove_server

    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        code = connection.execute(sa.text("SELECT code FROM grove_participant LIMIT 1")).scalar()
    engine.dispose()
    with grove_server(project_root, database.parent, workers=workers) as server:
        with urllib.request.urlopen(f"{server.base_url}/InitializeParticipant/{code}") as answer:
            page = answer.url

        def latencies(stop: threading.Event, into: list[float]) -> None:
            while not stop.is_set():
                started = time.perf_counter()
                with urllib.request.urlopen(page) as answer:
                    answer.read()
                into.append(time.perf_counter() - started)
                time.sleep(0.01)

        alone: list[float] = []
        stop = threading.Event()
        poller = threading.Thread(target=latencies, args=(stop, alone))
        poller.start()
        time.sleep(3)
        stop.set()
        poller.join()
        peaks_before = _worker_peaks_mb(server.process.pid)
        during: list[float] = []
        stop = threading.Event()
        poller = threading.Thread(target=latencies, args=(stop, during))
        poller.start()
        request = urllib.request.Request(
            f"{server.base_url}/api/export/all_apps_wide?format={export_format}",
            headers={"otree-rest-key": REST_KEY},
        )
        started = time.perf_counter()
        size = 0
        with urllib.request.urlopen(request) as answer:
            while chunk := answer.read(1 << 16):
                size += len(chunk)
        seconds = time.perf_counter() - started
        stop.set()
        poller.join()
        peaks_after = _worker_peaks_mb(server.process.pid)
    return {
        "export_seconds": round(seconds, 2),
        "export_megabytes": round(size / 1e6, 2),
        "process_peak_rss_mb_before_export": peaks_before,
        "process_peak_rss_mb_after_export": peaks_after,
        "page_ms_p50_alone": round(statistics.median(alone) * 1000, 1),
        "page_ms_p95_alone": round(_p95(alone) * 1000, 1),
        "page_ms_p50_during_export": round(statistics.median(during or [0.0]) * 1000, 1),
        "page_ms_p95_during_export": round(_p95(during or [0.0]) * 1000, 1),
        "page_gets_during_export": len(during),
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> None:
    from bench.projects import build_grove_project

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also export from `python -m server prodserver --workers N` (0: skip)",
    )
    parser.add_argument("--measure", nargs=3, metavar=("PROJECT", "URL", "FORMAT"), help="internal")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    sizes = [args.participants // 10, args.participants]
    results = {}
    with tempfile.TemporaryDirectory(prefix="grove-export-bench-") as folder:
        # A copy of the sample project with a secret key: prodserver refuses to start without.
        project = build_grove_project(Path(folder) / "project", ["survey"])
        for size in sizes:
            url = f"sqlite:///{folder}/export_{size}.sqlite3"
            build(project, url, size)
            for export_format in ("csv", "json"):
                output = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.export_memory",
                        "--measure",
                        str(project),
                        url,
                        export_format,
                    ],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                results[f"{size}_{export_format}"] = json.loads(output.strip().splitlines()[-1])
            if args.workers:
                database = Path(folder) / f"served_{size}" / "grove.sqlite3"
                database.parent.mkdir()
                Path(f"{folder}/export_{size}.sqlite3").rename(database)
                for export_format in ("csv", "json"):
                    results[f"{size}_{export_format}_served"] = measure_served(
                        project, database, export_format, args.workers
                    )
    print(json.dumps({"participants": sizes, "results": results}, indent=2))


if __name__ == "__main__":
    main()
