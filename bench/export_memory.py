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
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(database_url: str, participants: int) -> None:
    """Create ``participants`` in survey sessions of at most MAX_PARTICIPANTS, with every survey
    field filled."""
    import sqlalchemy as sa

    from server.config import load_settings
    from server.db import Database
    from server.project import load_project
    from server.schema import prepare_database
    from server.sessions import MAX_PARTICIPANTS, create_session, database_info

    settings = load_settings(ROOT, {"DATABASE_URL": database_url})
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


def measure(database_url: str, export_format: str) -> dict[str, float]:
    """In this process: page latency alone, then during one streamed export; peak RSS."""
    import sqlalchemy as sa
    from starlette.testclient import TestClient

    from server.app import create_app
    from server.config import load_settings
    from server.models.core import Participant

    app = create_app(load_settings(ROOT, {"DATABASE_URL": database_url}))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--measure", nargs=2, metavar=("URL", "FORMAT"), help="internal")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    sizes = [args.participants // 10, args.participants]
    results = {}
    with tempfile.TemporaryDirectory(prefix="grove-export-bench-") as folder:
        for size in sizes:
            url = f"sqlite:///{folder}/export_{size}.sqlite3"
            build(url, size)
            for export_format in ("csv", "json"):
                output = subprocess.run(
                    [sys.executable, "-m", "bench.export_memory", "--measure", url, export_format],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                results[f"{size}_{export_format}"] = json.loads(output.strip().splitlines()[-1])
    print(json.dumps({"participants": sizes, "results": results}, indent=2))


if __name__ == "__main__":
    main()
