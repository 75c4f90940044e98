"""CPU time of a page GET in one process: the ASGI app called directly (no HTTP parsing, no
uvicorn), the benchmark's form page (``bench_form``) of 100 participants on it, GET in turn
as metric 1 sends them (no cookie). What is left out (the socket, uvicorn's parser) is the
same for every revision, so a ratio of two revisions' figures is the ratio of what Grove's
own code costs.

Prints the CPU microseconds per GET (``time.process_time``, every thread of the process) of
each batch after a first one that warms up, and their median. ``--profile FILE`` writes a
cProfile of the second batch, with the page's work on the event loop's thread so that the
profile sees it (a server runs it in a worker thread).

Compare two revisions by running each one's copy alternately, several times (as
``bench.post_cpu``), or count instructions: ``PYTHONHASHSEED=0 valgrind --tool=callgrind
--callgrind-out-file=/dev/null python -m bench.get_cpu --steady --gets 200 --batches B``
with B = 1 and with B = 11 (the same setup, 2,000 GETs more), the difference of the totals
divided by 2,000.

Run: ``python -m bench.get_cpu [--batches 5] [--gets 2000] [--participants 100]
[--database sqlite|postgresql] [--profile FILE] [--steady]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from pathlib import Path

from bench.asgi_calls import print_per_request, profiled, start_lifespan
from bench.post_cpu import _participants, build, request


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = None
        if args.database == "postgresql":
            from tests import databases

            url = databases.database_url(Path(tmp), "get_cpu", backend=databases.POSTGRESQL)
        app = build(Path(tmp), url, steady=args.steady)
        app.state.grove.blocking_on_loop = bool(args.profile) or args.steady
        running = await start_lifespan(app)
        paths = await _participants(app, args.participants)
        gc.collect()
        gc.freeze()
        per_get = []
        for batch in range(args.batches + 1):  # the first one warms up
            started = time.process_time()
            with profiled(args.profile if batch == 1 else None, cumulative_lines=70):
                for i in range(args.gets):
                    status, _ = await request(app, "GET", paths[i % len(paths)])
                    if status != 200:
                        raise RuntimeError(f"GET answered {status}")
            spent = time.process_time() - started
            if batch:
                per_get.append(1e6 * spent / args.gets)
        print_per_request("GET", per_get)
        await running.stop()
        app.state.grove.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--gets", type=int, default=2000)
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--profile", help="write a cProfile of the second batch here")
    parser.add_argument(
        "--steady",
        action="store_true",
        help="no clock-driven background work, the page's work on the event loop (callgrind)",
    )
    args = parser.parse_args()
    os.environ.pop("GROVE_TEST_DATABASE", None)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
