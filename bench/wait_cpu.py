"""CPU time of metric 4's path in one process: the ASGI app called directly (no HTTP
parsing, no uvicorn) on ``bench_wait``'s groups of three, as metric 4 sends them: two members
arrive at the wait page and hold its status URL (``?wait=1``, as Grove's wait page script
does), then the last one submits; that POST (its unit of work completes the wait page and
moves the others on), the held status requests' answers and the three GETs of the next page
are what is measured. Each group's arrivals before the last are not measured.

Prints the CPU microseconds (``time.process_time``, every thread of the process) per group of
each batch after a first one that warms up, and their median; then the same for the last
arrival's POST alone (its unit of work, with what the held requests do meanwhile) and for the
GETs of the next page. ``--statements`` prints the SQL statements of one group's last POST
instead. ``--profile FILE`` writes a cProfile (by process time) of the second batch, with the
pages' work on the event loop's thread so that the profile sees it (a server runs it in a
worker thread).

Compare two revisions by running each one's copy alternately, several times (as
``bench.post_cpu``), or count instructions with ``--steady`` under callgrind (``--batches``
1 and 1 + k with the same ``--create``, the difference of the totals divided by k x
``--groups``).

Run: ``python -m bench.wait_cpu [--batches 5] [--groups 100] [--create N] [--profile FILE]
[--steady] [--statements]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.asgi_calls import asgi_request, print_per_request, start_lifespan
from bench.post_cpu import build

FORM = [(b"content-type", b"application/x-www-form-urlencoded")]


async def _groups(app: Any, count: int) -> list[list[str]]:
    """``count`` groups of three started (on the first page): each member's page path."""
    from server.sessions import create_session

    grove = app.state.grove
    codes = await asyncio.to_thread(
        grove.db.run,
        lambda db: [
            p.code for p in create_session(db, grove.project, "bench_wait", 3 * count).participants
        ],
    )
    paths = []
    for code in codes:
        answer = await asgi_request(app, "GET", f"/InitializeParticipant/{code}")
        if answer.status not in (302, 303):
            raise RuntimeError(f"starting {code} answered {answer.status}")
        paths.append(answer.headers["location"])
    # Members of one group: the session's groups are formed by participant order.
    return [paths[i : i + 3] for i in range(0, len(paths), 3)]


async def _arrive(app: Any, path: str) -> str:
    """Submit the page at ``path`` (no field); the page it redirects to."""
    answer = await asgi_request(app, "POST", path, body=b"x=1", headers=FORM)
    if answer.status != 303:
        raise RuntimeError(f"POST {path} answered {answer.status}: {answer.body[:300]!r}")
    return answer.headers["location"]


async def _held_status(app: Any, wait_path: str) -> str:
    """The wait page's status request held until released: the next page's path."""
    answer = await asgi_request(app, "GET", wait_path + "/status", query=b"wait=1")
    released = json.loads(answer.body) if answer.status == 200 else {}
    if not released.get("ready") or "url" not in released:
        raise RuntimeError(f"the held status of {wait_path} answered {answer.status}: {released}")
    return str(released["url"])


async def _one_group(
    app: Any, paths: list[str], spent: dict[str, float], profile: cProfile.Profile | None = None
) -> None:
    """One group through the wait page; the CPU of its phases added to ``spent``, what is
    measured profiled in ``profile`` (if given)."""
    *waiting, last = paths
    held = []
    for path in waiting:
        wait_path = await _arrive(app, path)
        held.append(asyncio.create_task(_held_status(app, wait_path)))
    await asyncio.sleep(0.002)  # the held requests subscribe and read their status
    if profile is not None:
        profile.enable()
    started = time.process_time()
    last_next = await _arrive(app, last)
    posted = time.process_time()
    next_paths = [*await asyncio.gather(*held), last_next]
    released = time.process_time()
    for path in next_paths:
        answer = await asgi_request(app, "GET", path)
        if answer.status != 200 or b"After" not in answer.body:
            raise RuntimeError(f"the next page {path} answered {answer.status}")
    done = time.process_time()
    if profile is not None:
        profile.disable()
    spent["group"] += done - started
    spent["post"] += posted - started
    spent["gets"] += done - released


async def _statements(app: Any, paths: list[str]) -> None:
    """Print the statements of the group's last arrival's POST."""
    import sqlalchemy as sa

    *waiting, last = paths
    for path in waiting:
        await _arrive(app, path)
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split())[:150])

    engine = app.state.grove.db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        await _arrive(app, last)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    for number, statement in enumerate(sent, 1):
        print(f"{number:3}. {statement}")


def _write_profile(profile: cProfile.Profile, path: str) -> None:
    """Write ``profile`` to ``path``; print its top functions by own and cumulative time."""
    profile.dump_stats(path)
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(70)


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = build(Path(tmp), None, steady=args.steady, configs=["bench_wait"])
        app.state.grove.blocking_on_loop = bool(args.profile) or args.steady
        running = await start_lifespan(app)
        groups = await _groups(app, args.create or (args.batches + 1) * args.groups + 2)
        if len(groups) < (args.batches + 1) * args.groups + 2:
            raise SystemExit("--create: fewer than (batches + 1) x groups + 2")
        gc.collect()
        gc.freeze()
        if args.statements:
            await _one_group(app, groups[0], {"group": 0.0, "post": 0.0, "gets": 0.0})
            await _statements(app, groups[1])
        else:
            figures: dict[str, list[float]] = {"group": [], "post": [], "gets": []}
            for batch in range(args.batches + 1):  # the first one warms up
                spent = {"group": 0.0, "post": 0.0, "gets": 0.0}
                chunk = groups[batch * args.groups : (batch + 1) * args.groups]
                profile = None
                if args.profile and batch == 1:
                    profile = cProfile.Profile(time.process_time)
                for paths in chunk:
                    await _one_group(app, paths, spent, profile)
                if profile is not None:
                    _write_profile(profile, args.profile)
                if batch:
                    for name, value in spent.items():
                        figures[name].append(1e6 * value / args.groups)
            print_per_request("group", figures["group"])
            for name in ("post", "gets"):
                print(f"  {name}: median {statistics.median(figures[name]):.0f} us a group")
        await running.stop()
        app.state.grove.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument(
        "--create",
        type=int,
        default=0,
        help="create this many groups first (the same setup for runs of different --batches)",
    )
    parser.add_argument("--profile", help="write a cProfile of the second batch here")
    parser.add_argument(
        "--statements", action="store_true", help="print one last arrival's statements"
    )
    parser.add_argument(
        "--steady",
        action="store_true",
        help="no clock-driven background work, the pages' work on the event loop (callgrind)",
    )
    args = parser.parse_args()
    os.environ.pop("GROVE_TEST_DATABASE", None)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
