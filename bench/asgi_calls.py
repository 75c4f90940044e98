"""Requests to Grove's ASGI app in one process, for the in-process CPU tools
(``bench.get_cpu``, ``bench.post_cpu``, ``bench.urn_cpu``, ``bench.vars_cpu``).

The app is called directly, without a client library: what a request costs the client would
otherwise count in ``time.process_time`` beside what it costs Grove. Also the lifespan that
starts and stops the app, the batch profile and the per-request figures these tools print.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import pstats
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    """What the app answered: the status, the headers (lower-case names) and the body."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


async def asgi_request(
    app: Any,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    body: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> Answer:
    """One HTTP request through the ASGI app (``body`` sent in one message, ``headers``
    after host and user-agent; a content-length is added for a body)."""
    sent_headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"grove-bench"), *headers]
    if body:
        sent_headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": sent_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    answer = Answer()
    chunks: list[bytes] = []
    delivered = False

    async def receive() -> Any:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    answer.body = b"".join(chunks)
    return answer


@dataclass
class Running:
    """An app whose lifespan has started: ``stop()`` it when done."""

    inbox: asyncio.Queue[Any]
    task: asyncio.Task[Any]

    async def stop(self) -> None:
        """Send the lifespan's shutdown and wait for the app to finish it."""
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.task


async def start_lifespan(app: Any) -> Running:
    """Run the app's lifespan startup (its database, background tasks)."""
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    outbox: asyncio.Queue[Any] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})

    async def receive() -> Any:
        return await inbox.get()

    async def send(message: Any) -> None:
        await outbox.put(message)

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    return Running(inbox, task)


@contextlib.contextmanager
def profiled(
    path: str | None,
    *,
    timer: Callable[[], float] | None = None,
    own_lines: int = 40,
    cumulative_lines: int = 60,
) -> Iterator[None]:
    """cProfile what runs inside (nothing with ``path`` None), by ``timer`` (cProfile's wall
    clock by default; ``time.process_time`` leaves out waits), write it to ``path`` and print
    its top functions by own time (``own_lines``) and by cumulative time
    (``cumulative_lines``)."""
    if path is None:
        yield
        return
    profiler = cProfile.Profile(timer) if timer is not None else cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
    profiler.dump_stats(path)
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(own_lines)
    stats.sort_stats("cumulative").print_stats(cumulative_lines)


def print_per_request(
    unit: str, microseconds: list[float], *, before: str = "", after: str = ""
) -> None:
    """``[before ]us/<unit>: <each batch's figure> median <m>[ after]``, the line these tools
    end with."""
    line = [
        f"us/{unit}:",
        " ".join(f"{v:.0f}" for v in microseconds),
        f"median {statistics.median(microseconds):.0f}",
    ]
    print(" ".join([*([before] if before else []), *line, *([after] if after else [])]))
