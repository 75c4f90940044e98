"""CPU time of one urn API call in one process: ``POST /study_participants`` through the ASGI
app called directly (no HTTP parsing, no uvicorn), a new id each call, on a study with
``--prior`` assignments (``bench.urn_throughput.seed_history``), as metric 5 sends them.

Prints the CPU microseconds per call (``time.process_time``) of each batch after a first one
that warms up, and their median. As ``bench.post_cpu``: compare two revisions by running each
one's copy alternately, or count instructions on a shared machine: ``PYTHONHASHSEED=0
valgrind --tool=callgrind --callgrind-out-file=/dev/null python -m bench.urn_cpu --batches B
--calls 50`` with B = 1 and B = 7 (300 calls more) and divide the difference by 300. The
figure moves by up to 15% between runs: the draws run in worker threads and the WAL
checkpointer wakes every second, so a slower run (valgrind on a busy machine) counts more;
compare runs made side by side, several times.
``--profile FILE`` writes a cProfile of the second batch.

Run: ``python -m bench.urn_cpu [--prior 100] [--batches 5] [--calls 400] [--profile FILE]
[--seeded DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.asgi_calls import asgi_request, print_per_request, profiled, start_lifespan
from bench.projects import REPO_ROOT, build_grove_project
from bench.servers import ADMIN_PASSWORD, REST_KEY, SECRET_KEY, scratch_env

LEVELS = [("18-40", "Male"), ("41-65", "Female"), ("65+", "Male"), ("18-40", "Female")]


async def call(app: Any, method: str, path: str, query: str) -> tuple[int, bytes]:
    """One request through the ASGI app: (status, body)."""
    answer = await asgi_request(app, method, path, query=query.encode())
    return answer.status, answer.body


def build(folder: Path, prior: int, seeded: Path | None = None) -> tuple[Any, str]:
    """The production app on a SQLite file whose study has ``prior`` assignments, without
    the background work that runs by the clock; and the study's name. ``seeded``: a folder
    where the seeded file is kept, made at the first use and copied at the next ones (under
    callgrind, seeding 100,000 assignments would take minutes)."""
    from bench.urn_throughput import seed_history
    from server import worker_registry
    from server.app import create_app
    from server.config import load_settings
    from server.http.lazy_routes import build_now

    project = build_grove_project(folder / "project", root=REPO_ROOT)
    url = f"sqlite:///{folder / 'grove.sqlite3'}"
    kept = seeded / f"urn_{prior}.sqlite3" if seeded is not None else None
    if kept is not None and kept.exists():
        shutil.copy(kept, folder / "grove.sqlite3")
        study = kept.with_suffix(".study").read_text()
    else:
        study = seed_history(url, prior, project)
        if kept is not None:
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(folder / "grove.sqlite3", kept)
            kept.with_suffix(".study").write_text(study)
    env = scratch_env()
    env.update(
        OTREE_REST_KEY=REST_KEY,
        OTREE_SECRET_KEY=SECRET_KEY,
        OTREE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        OTREE_AUTH_LEVEL="STUDY",
        OTREE_PRODUCTION="1",
        GROVE_API_RATE_LIMIT="1000000000",
        DATABASE_URL=url,
    )
    worker_registry.HEARTBEAT_SECONDS = 36_000
    settings = load_settings(project, env).with_changes(timeout_poll_seconds=36_000.0)
    app = create_app(settings)
    build_now(app.routes)
    return app, study


async def main_async(args: argparse.Namespace) -> None:
    import gc

    with tempfile.TemporaryDirectory() as tmp:
        app, study = build(Path(tmp), args.prior, args.seeded)
        if args.profile:
            # The draw's work on the event loop's thread, where a profile sees it.
            from server.rest import urn_api

            async def on_the_loop(function: Any, *arguments: Any) -> Any:
                return function(*arguments)

            urn_api.run_in_threadpool = on_the_loop  # type: ignore[assignment]
        running = await start_lifespan(app)
        gc.collect()
        gc.freeze()
        per_call = []
        number = 0
        for batch in range(args.batches + 1):  # the first one warms up
            queries = []
            for _ in range(args.calls):
                age_group, sex = LEVELS[number % len(LEVELS)]
                queries.append(
                    urlencode(
                        {
                            "api_key": REST_KEY,
                            "study": study,
                            "id": f"B{number:06d}",
                            "age_group": age_group,
                            "sex": sex,
                        }
                    )
                )
                number += 1
            started = time.process_time()
            with profiled(args.profile if batch == 1 else None, timer=time.thread_time):
                for query in queries:
                    status, body = await call(app, "POST", "/study_participants", query)
                    if status != 200:
                        raise RuntimeError(f"urn API answered {status}: {body[:300]!r}")
            spent = time.process_time() - started
            if batch:
                per_call.append(1e6 * spent / args.calls)
        print_per_request(
            "call",
            per_call,
            before=f"prior {args.prior}:",
            after=f"(last answer {json.loads(body)['results'][0]})",
        )
        await running.stop()
        app.state.grove.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prior", type=int, default=100)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--profile", help="write a cProfile of the second batch here")
    parser.add_argument(
        "--seeded", type=Path, help="keep the seeded database in this folder, reuse it later"
    )
    args = parser.parse_args()
    os.environ.pop("GROVE_TEST_DATABASE", None)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
