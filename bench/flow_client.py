"""The load generator for flows: a small asyncio HTTP/1.1 client, run in its own process.

It needs only the standard library (and ``websockets`` to wait on oTree's wait pages), so the
benchmark can run it with any interpreter. Input is one JSON document on stdin, output one
JSON document on stdout::

    python bench/flow_client.py < job.json

Jobs (``"flow"``):

* ``start``: open ``/InitializeParticipant/<code>`` for each code, follow redirects, return
  the page path each participant is on.
* ``create_sessions``: time ``POST /api/sessions/`` for each size; during the largest, loop
  page GETs from other clients and report their latencies.
* ``wait_page``: per group, two players wait the way the server's own page waits (Grove: the
  status URL its script polls; oTree: its websocket), then the last player arrives; the time
  from that arrival until every player has the next page loaded.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import statistics
import sys
import time
from urllib.parse import urlsplit


class HttpClient:
    """One keep-alive HTTP/1.1 connection with redirects followed on demand."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; return status, headers (lower-case names) and body."""
        for attempt in (1, 2):
            if self.writer is None:
                await self._connect()
            lines = [
                f"{method} {path} HTTP/1.1",
                f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(body)}",
            ]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            assert self.writer is not None
            try:
                self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                await self.writer.drain()
                return await self._read_response()
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _read_response(self) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            body = b"".join(chunks)
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body

    async def follow(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, str, bytes]:
        """Request and follow redirects (as GETs); return the final status, path and body."""
        status, response_headers, content = await self.request(method, path, body, headers)
        for _ in range(10):
            if status not in (301, 302, 303, 307):
                break
            location = urlsplit(response_headers["location"])
            path = location.path + (f"?{location.query}" if location.query else "")
            status, response_headers, content = await self.request("GET", path)
        return status, path, content


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def start_participants(job: dict) -> dict:
    """Open each participant's start link; return the path of the page each one is on."""
    base, codes = job["base_url"], job["codes"]
    paths: dict[str, str] = {}
    queue = list(codes)

    async def worker() -> None:
        client = HttpClient(base)
        while queue:
            code = queue.pop()
            status, path, _ = await client.follow("GET", f"/InitializeParticipant/{code}")
            if status != 200:
                raise RuntimeError(f"starting {code}: HTTP {status} at {path}")
            paths[code] = path
        await client.close()

    await asyncio.gather(*(worker() for _ in range(min(8, len(codes)))))
    return {"paths": [paths[code] for code in codes]}


async def create_sessions(job: dict) -> dict:
    """Session creation times, and page GET latencies during the largest creation."""
    base, key = job["base_url"], job["rest_key"]
    headers = {"otree-rest-key": key, "Content-Type": "application/json"}
    client = HttpClient(base)
    results = []
    for size, repeats in job["sizes"]:
        timings = []
        for _ in range(repeats):
            body = json.dumps(
                {"session_config_name": job["config"], "num_participants": size}
            ).encode()
            start = time.perf_counter()
            status, _, content = await client.request("POST", "/api/sessions", body, headers)
            timings.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"POST /api/sessions/ ({size}): HTTP {status} {content[:300]!r}")
        results.append(
            {"participants": size, "seconds": timings, "median_s": statistics.median(timings)}
        )
    await client.close()

    # The concurrent GETs: measured idle first, then during one more largest creation.
    page_paths: list[str] = job["page_paths"]

    async def page_loop(stop: asyncio.Event, latencies: list[float], offset: int) -> None:
        getter = HttpClient(base)
        i = offset
        while not stop.is_set():
            path = page_paths[i % len(page_paths)]
            i += job["get_clients"]
            started = time.perf_counter()
            status, _, _ = await getter.request("GET", path)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"GET {path}: HTTP {status}")
        await getter.close()

    async def measure(during_creation: bool) -> tuple[list[float], float]:
        stop = asyncio.Event()
        latencies: list[float] = []
        loops = [
            asyncio.create_task(page_loop(stop, latencies, i)) for i in range(job["get_clients"])
        ]
        await asyncio.sleep(0.3)
        latencies.clear()
        creation_seconds = 0.0
        if during_creation:
            creator = HttpClient(base)
            body = json.dumps(
                {"session_config_name": job["config"], "num_participants": job["concurrent_size"]}
            ).encode()
            started = time.perf_counter()
            await creator.request("POST", "/api/sessions", body, headers)
            creation_seconds = time.perf_counter() - started
            await creator.close()
        else:
            await asyncio.sleep(2.0)
        stop.set()
        await asyncio.gather(*loops)
        return latencies, creation_seconds

    idle, _ = await measure(during_creation=False)
    busy, creation_seconds = await measure(during_creation=True)
    return {
        "creations": results,
        "concurrent_gets": {
            "clients": job["get_clients"],
            "participants": job["concurrent_size"],
            "creation_s": creation_seconds,
            "idle": {
                "count": len(idle),
                "p50_ms": _percentile(idle, 0.5) * 1000,
                "p99_ms": _percentile(idle, 0.99) * 1000,
            },
            "during": {
                "count": len(busy),
                "p50_ms": _percentile(busy, 0.5) * 1000,
                "p99_ms": _percentile(busy, 0.99) * 1000,
                "max_ms": max(busy, default=0.0) * 1000,
            },
        },
    }


_GROVE_STATUS = re.compile(r'data-status-url="([^"]+)"')
_OTREE_SOCKET = re.compile(r'makeReconnectingWebSocket\("([^"]+)"\)')


async def _wait_like_grove(client: HttpClient, page_path: str, html: bytes) -> float:
    """What Grove's wait page script (grove.js) does: long-poll the status URL with
    ``?wait=1``, asking again at once while the answer is not ready, then load the page the
    answer names (a server before the answer named one: reload the wait page)."""
    match = _GROVE_STATUS.search(html.decode())
    if match is None:
        raise RuntimeError(f"no status URL on Grove's wait page {page_path}")
    status_url = match.group(1).replace("&amp;", "&")
    while True:
        _, _, content = await client.request("GET", status_url + "?wait=1")
        answer = json.loads(content)
        if answer.get("ready"):
            break
    await client.follow("GET", answer.get("url") or page_path)
    return time.perf_counter()


async def _wait_like_otree(client: HttpClient, page_path: str, html: bytes) -> float:
    """What oTree's wait page script does: wait for its websocket's message, then reload."""
    import websockets  # oTree's own dependency, present in its venv

    match = _OTREE_SOCKET.search(html.decode())
    if match is None:
        raise RuntimeError(f"no websocket on oTree's wait page {page_path}")
    url = f"ws://{client.host}:{client.port}{match.group(1)}"
    async with websockets.connect(url) as socket:
        await socket.recv()
    await client.follow("GET", page_path)
    return time.perf_counter()


async def _one_group(base: str, group: list[str], waiter, pause: float) -> float:
    """One group through the wait page; the milliseconds from the last arrival to all moved."""
    clients = [HttpClient(base) for _ in group]
    try:
        pages = []
        for client, code in zip(clients, group, strict=True):
            _, path, _ = await client.follow("GET", f"/InitializeParticipant/{code}")
            pages.append(path)
        waiting = []
        for client, path in zip(clients[:-1], pages[:-1], strict=True):
            status, wait_path, html = await client.follow("POST", path, b"", FORM)
            if status != 200:
                raise RuntimeError(
                    f"arriving at the wait page from {path}: HTTP {status} at {wait_path}"
                )
            waiting.append(asyncio.create_task(waiter(client, wait_path, html)))
        await asyncio.sleep(pause)  # the last player comes at a random moment
        arrived = time.perf_counter()
        status, final_path, body = await clients[-1].follow("POST", pages[-1], b"", FORM)
        last_done = time.perf_counter()
        if status != 200 or "After" not in final_path:
            for task in waiting:
                task.cancel()
            raise RuntimeError(f"the last player got HTTP {status} at {final_path}: {body[:200]!r}")
        try:
            done = await asyncio.wait_for(asyncio.gather(*waiting), timeout=30)
        except TimeoutError:
            raise RuntimeError("a waiting player was not let through in 30 s") from None
        return (max([last_done, *done]) - arrived) * 1000
    finally:
        for client in clients:
            await client.close()


async def wait_page(job: dict) -> dict:
    """Per group: last arrival to every player on the next page, in milliseconds.

    A group that fails (an error page, a player never let through) is counted and reported,
    and the run goes on with the next group.
    """
    base, kind = job["base_url"], job["server"]
    waiter = _wait_like_grove if kind == "grove" else _wait_like_otree
    latencies: list[float] = []
    failures: list[str] = []
    rng = random.Random(1)
    for group in job["groups"]:
        try:
            latencies.append(await _one_group(base, group, waiter, 0.3 + rng.random()))
        except (RuntimeError, OSError, asyncio.IncompleteReadError) as error:
            failures.append(str(error)[:300])
    return {
        "groups": len(job["groups"]),
        "failed_groups": len(failures),
        "failures": failures[:5],
        "latencies_ms": latencies,
        "p50_ms": _percentile(latencies, 0.5),
        "p99_ms": _percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else None,
    }


FLOWS = {"start": start_participants, "create_sessions": create_sessions, "wait_page": wait_page}


def main() -> int:
    """Read the job from stdin, run it, print the result as JSON."""
    job = json.load(sys.stdin)
    result = asyncio.run(FLOWS[job["flow"]](job))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
