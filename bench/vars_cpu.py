"""CPU time of a participant_vars post in one process: the ASGI app called directly (no
HTTP parsing, no uvicorn), the benchmark's bodies (metric 2): by room and label, a new label
each post in the benchmark room (no session there: the vars are kept pending, as Qualtrics'
posts before arrival), or by participant code over ``--participants`` participants in turn.
What is left out (the socket, uvicorn's parser) is the same for every revision, so a ratio of
two revisions' figures is the ratio of what Grove's own code costs.

Prints the CPU microseconds per post (``time.process_time``, every thread of the process) of
each batch after a first one that warms up, and their median. ``--statements`` also counts
the SQL statements a post sends. ``--profile FILE`` writes a cProfile of the second batch
with the handler's work on the event loop's thread, so that the profile sees it.

Compare two revisions by running each one's copy alternately, several times
(``git archive <rev> | tar -x -C /tmp/rev``, then ``cd /tmp/rev && python -m bench.vars_cpu``),
or count instructions: ``PYTHONHASHSEED=0 valgrind --tool=callgrind
--callgrind-out-file=/dev/null python -m bench.vars_cpu --batches B`` with two values of B.

Run: ``python -m bench.vars_cpu [--by label|code] [--batches 5] [--posts 500]
[--clients 1] [--database sqlite|postgresql] [--profile FILE] [--statements]``
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
from bench.metrics import VARS_BODY, label_bodies
from bench.post_cpu import build
from bench.servers import REST_KEY


async def post_json(app: Any, path: str, body: bytes) -> tuple[int, bytes]:
    """One JSON POST with the REST key through the ASGI app: (status, body)."""
    json_with_key = [
        (b"content-type", b"application/json"),
        (b"otree-rest-key", REST_KEY.encode()),
    ]
    answer = await asgi_request(app, "POST", path, body=body, headers=json_with_key)
    return answer.status, answer.body


async def _post_all(app: Any, requests: list[tuple[str, bytes]], clients: int) -> None:
    queue = list(reversed(requests))

    async def client() -> None:
        while queue:
            path, body = queue.pop()
            status, answer = await post_json(app, path, body)
            if status != 200:
                raise RuntimeError(f"{path}: {status} {answer!r}")

    await asyncio.gather(*(client() for _ in range(clients)))


async def _participant_codes(app: Any, count: int) -> list[str]:
    from server.sessions import create_session

    grove = app.state.grove
    return await asyncio.to_thread(
        grove.db.run,
        lambda db: [
            p.code for p in create_session(db, grove.project, "bench_form", count).participants
        ],
    )


def _handlers_on_the_loop() -> None:
    """Run the API's handlers on the event loop's thread (a profile sees only that one)."""
    from server.rest import endpoint

    async def call(function: Any, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    endpoint.run_in_threadpool = call  # type: ignore[assignment]


def _count_statements(app: Any) -> list[int]:
    import sqlalchemy as sa

    counter = [0]

    def count(*_args: Any) -> None:
        counter[0] += 1

    sa.event.listen(app.state.grove.db.engine, "before_cursor_execute", count)
    return counter


async def main_async(args: argparse.Namespace) -> None:
    import gc

    with tempfile.TemporaryDirectory() as tmp:
        url = None
        if args.database == "postgresql":
            from tests import databases

            url = databases.database_url(Path(tmp), "vars_cpu", backend=databases.POSTGRESQL)
        app = build(Path(tmp), url, steady=True)
        if args.profile:
            _handlers_on_the_loop()
        running = await start_lifespan(app)
        total = (args.batches + 1) * args.posts
        if args.by == "label":
            bodies = [body.encode() for body in label_bodies(total)]
            requests = [("/api/participant_vars", body) for body in bodies]
        else:
            codes = await _participant_codes(app, args.participants)
            requests = [
                (f"/api/participant_vars/{codes[i % len(codes)]}", VARS_BODY.encode())
                for i in range(total)
            ]
        counter = _count_statements(app) if args.statements else None
        gc.collect()
        gc.freeze()
        per_post = []
        for batch in range(args.batches + 1):  # the first one warms up
            chunk = requests[batch * args.posts : (batch + 1) * args.posts]
            statements_before = counter[0] if counter else 0
            started = time.process_time()
            with profiled(
                args.profile if batch == 1 else None,
                timer=time.process_time,
                own_lines=45,
                cumulative_lines=70,
            ):
                await _post_all(app, chunk, args.clients)
            spent = time.process_time() - started
            if batch:
                per_post.append(1e6 * spent / args.posts)
            if counter and batch == 1:
                print(f"statements per post: {(counter[0] - statements_before) / args.posts:.2f}")
        print_per_request(f"post by {args.by}", per_post)
        await running.stop()
        app.state.grove.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--by", choices=["label", "code"], default="label")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--profile", help="write a cProfile of the second batch here")
    parser.add_argument("--statements", action="store_true", help="count SQL statements")
    args = parser.parse_args()
    os.environ.pop("GROVE_TEST_DATABASE", None)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
