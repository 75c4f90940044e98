"""CPU time of a valid page POST in one process: the ASGI app called directly (no HTTP
parsing, no uvicorn), the benchmark's form page (``bench_form``: ``answer=42``), each POST by
a different participant still on the form, as metric 1 sends them. What is left out (the
socket, uvicorn's parser) is the same for every revision, so a ratio of two revisions' figures
is the ratio of what Grove's own code costs.

Prints the CPU microseconds per POST (``time.process_time``, every thread of the process) of
each batch after a first one that warms up, and their median. ``--clients`` sends that many
POSTs at once (the group commit then batches them on SQLite). ``--profile FILE`` writes a
cProfile of the second batch, with the page's work on the event loop's thread so that the
profile sees it (a server runs it in a worker thread).

Compare two revisions by running each one's copy alternately, several times
(``git archive <rev> | tar -x -C /tmp/rev``, then ``cd /tmp/rev && python -m bench.post_cpu``).
On a shared machine, count instructions instead: run ``PYTHONHASHSEED=0 valgrind
--tool=callgrind --callgrind-out-file=/dev/null python -m bench.post_cpu --steady
--participants 660 --posts 20 --batches B`` with B = 1 and with B = 16 (the same setup,
300 POSTs more) and divide the difference of the two totals by 300.

Run: ``python -m bench.post_cpu [--batches 5] [--posts 400] [--clients 1]
[--database sqlite|postgresql] [--profile FILE] [--participants N] [--steady]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.asgi_calls import asgi_request, print_per_request, profiled, start_lifespan
from bench.projects import build_grove_project
from bench.servers import ADMIN_PASSWORD, REST_KEY, SECRET_KEY, scratch_env


async def request(app: Any, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    """One request through the ASGI app, a body sent as a form: (status, headers)."""
    form = [(b"content-type", b"application/x-www-form-urlencoded")] if body else []
    answer = await asgi_request(app, method, path, body=body, headers=form)
    return answer.status, answer.headers


def build(
    folder: Path,
    database_url: str | None,
    *,
    steady: bool = False,
    configs: list[str] | None = None,
) -> Any:
    """The production app of the benchmark's project in ``folder`` (``configs``: its session
    configs, ``bench_form`` alone by default); ``steady``: without the background work that
    runs by the clock (the timeout sweep, the worker's heartbeat), whose share of a count of
    instructions would grow with the run's length."""
    from server.app import create_app
    from server.config import load_settings
    from server.http.lazy_routes import build_now

    project = build_grove_project(folder / "project", configs=configs or ["bench_form"])
    env = scratch_env()
    env.update(
        OTREE_REST_KEY=REST_KEY,
        OTREE_SECRET_KEY=SECRET_KEY,
        OTREE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        OTREE_AUTH_LEVEL="STUDY",
        OTREE_PRODUCTION="1",
        GROVE_API_RATE_LIMIT="1000000000",
        DATABASE_URL=database_url or f"sqlite:///{folder / 'grove.sqlite3'}",
    )
    settings = load_settings(project, env)
    if steady:
        from server import worker_registry

        worker_registry.HEARTBEAT_SECONDS = 36_000
        # Under callgrind everything runs some fifty times slower: a writer waiting for the
        # lock while another thread's unit of work runs must not give up after 5 s.
        settings = settings.with_changes(
            timeout_poll_seconds=36_000.0, db_lock_timeout_seconds=600.0
        )
    app = create_app(settings)
    build_now(app.routes)
    return app


async def _participants(app: Any, count: int) -> list[str]:
    """``count`` bench_form participants started (on the form): their form's paths."""
    from server.sessions import create_session

    grove = app.state.grove
    codes = await asyncio.to_thread(
        grove.db.run,
        lambda db: [
            p.code for p in create_session(db, grove.project, "bench_form", count).participants
        ],
    )
    paths = []
    for code in codes:
        status, headers = await request(app, "GET", f"/InitializeParticipant/{code}")
        assert status in (302, 303), status
        paths.append(headers["location"])
    return paths


async def _post_all(app: Any, paths: list[str], clients: int) -> None:
    body = b"answer=42"
    queue = list(reversed(paths))

    async def client() -> None:
        while queue:
            path = queue.pop()
            status, headers = await request(app, "POST", path, body)
            if status != 303 or "/Done/" not in headers["location"]:
                raise RuntimeError(f"not a valid submission: {status} {headers}")

    await asyncio.gather(*(client() for _ in range(clients)))


async def main_async(args: argparse.Namespace) -> None:
    import gc

    with tempfile.TemporaryDirectory() as tmp:
        url = None
        if args.database == "postgresql":
            from tests import databases

            url = databases.database_url(Path(tmp), "post_cpu", backend=databases.POSTGRESQL)
        app = build(Path(tmp), url, steady=args.steady)
        # A profile sees the event loop's thread only: the page's work runs there then.
        app.state.grove.blocking_on_loop = bool(args.profile) or args.steady
        running = await start_lifespan(app)
        if 0 < args.participants < (args.batches + 1) * args.posts:
            raise SystemExit("--participants: fewer than (batches + 1) x posts")
        pool = await _participants(app, args.participants) if args.participants else []
        gc.collect()
        gc.freeze()
        per_post = []
        for batch in range(args.batches + 1):  # the first one warms up
            if pool:
                paths = pool[batch * args.posts : (batch + 1) * args.posts]
            else:
                paths = await _participants(app, args.posts)
            started = time.process_time()
            with profiled(args.profile if batch == 1 else None):
                await _post_all(app, paths, args.clients)
            spent = time.process_time() - started
            if batch:
                per_post.append(1e6 * spent / args.posts)
        print_per_request("POST", per_post)
        await running.stop()
        app.state.grove.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--profile", help="write a cProfile of the second batch here")
    parser.add_argument(
        "--participants",
        type=int,
        default=0,
        help="create this many participants before the first batch (else each batch's own)",
    )
    parser.add_argument(
        "--steady",
        action="store_true",
        help="no clock-driven background work, the page's work on the event loop (callgrind)",
    )
    args = parser.parse_args()
    os.environ.pop("GROVE_TEST_DATABASE", None)
    try:
        asyncio.run(main_async(args))
    finally:
        if args.database == "postgresql":
            from tests import databases

            # The throwaway cluster is stopped only by this: left to the interpreter's exit,
            # its stop failed and the cluster kept running after the command.
            databases.stop_postgres()


if __name__ == "__main__":
    main()
