"""Where metric 4's milliseconds go: a time-stamped trace of single wait page groups on Grove.

``python -m bench.wait_trace [--groups 10] [--workers 2]`` starts this tree's Grove
(``prodserver``, SQLite, production settings, as ``python -m bench`` runs it), and sends
``bench_wait``'s groups of three through the wait page exactly as metric 4 does
(``bench/flow_client.py``: two members hold the status URL, then the last one submits). Each
request's span is stamped at the client (one process, one clock), and each group is printed as
a timeline in milliseconds from the last arrival's POST: that POST and its 303, the members'
held status answers, and the three GETs of the next page, with the client each came from
(``c0``, ``c1``: the waiting members; ``c2``: the last arrival). Then the medians of the
phases over the groups:

* ``post``: the last arrival's POST until its 303 arrived (its unit of work, its COMMIT and
  the answer);
* ``released``: until the later of the two members' status answers arrived (negative: before
  the 303 did);
* ``gets``: from the 303 until the last of the three next pages arrived;
* ``total``: metric 4's figure for the group.

On a loaded machine every phase also holds the time the processes waited for a core; compare
runs made at similar load averages (printed before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import flow_client
from bench.projects import build_grove_project
from bench.servers import grove_server
from bench.setup_calls import create_session

# (client number, method, path, sent at, answered at, status), perf_counter seconds.
Span = tuple[int, str, str, float, float, int]


class TracedClient(flow_client.HttpClient):
    """flow_client's HTTP client, noting each request's span in ``spans``."""

    def __init__(self, base_url: str, number: int, spans: list[Span]) -> None:
        super().__init__(base_url)
        self.number = number
        self.spans = spans

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """flow_client's request, its span noted."""
        sent = time.perf_counter()
        answer = await super().request(method, path, body, headers)
        self.spans.append((self.number, method, path, sent, time.perf_counter(), answer[0]))
        return answer


async def _traced_groups(base_url: str, groups: list[list[str]]) -> list[tuple[float, list[Span]]]:
    """Each group through metric 4's flow; its figure (ms) and its requests' spans."""
    traced = []
    rng = random.Random(1)
    original = flow_client.HttpClient
    for group in groups:
        spans: list[Span] = []
        numbers = iter(range(len(group)))

        def client(base: str, spans: list[Span] = spans, numbers: Any = numbers) -> TracedClient:
            return TracedClient(base, next(numbers), spans)

        flow_client.HttpClient = client  # type: ignore[misc,assignment]
        try:
            pause = 0.3 + rng.random()
            figure = await flow_client._one_group(
                base_url, group, flow_client._wait_like_grove, pause
            )
        finally:
            flow_client.HttpClient = original  # type: ignore[misc]
        traced.append((figure, spans))
    return traced


def _phases(spans: list[Span], last: int) -> dict[str, float]:
    """The group's phases in ms (see the module docstring), from its spans."""
    post = [s for s in spans if s[0] == last and s[1] == "POST"][-1]
    start, answered = post[3], post[4]
    status = [s[4] for s in spans if "/status" in s[2] and s[4] >= start]
    gets = [s[4] for s in spans if s[1] == "GET" and "/status" not in s[2] and s[3] >= start]
    return {
        "post": (answered - start) * 1000,
        "released": (max(status) - answered) * 1000 if status else float("nan"),
        "gets": (max(gets) - answered) * 1000,
        "total": (max([answered, *gets]) - start) * 1000,
    }


def _print_group(figure: float, spans: list[Span], last: int) -> None:
    start = [s for s in spans if s[0] == last and s[1] == "POST"][-1][3]
    print(f"group: {figure:.1f} ms")
    for number, method, path, sent, answered, status in sorted(spans, key=lambda s: s[3]):
        if answered < start:
            continue
        where = path.split("/", 3)[-1][:44]
        print(
            f"  c{number} {method:4} {status} {where:44} "
            f"{(sent - start) * 1000:8.2f} -> {(answered - start) * 1000:7.2f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the trace; print each group's timeline and the phases' medians."""
    parser = argparse.ArgumentParser(prog="python -m bench.wait_trace", description=__doc__)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        project = build_grove_project(Path(folder) / "project", configs=["bench_wait"])
        with grove_server(project, Path(folder), workers=options.workers) as server:
            _, codes = create_session(server, "bench_wait", 3 * options.groups)
            groups = [codes[i : i + 3] for i in range(0, len(codes), 3)]
            traced = asyncio.run(_traced_groups(server.base_url, groups))
    phases: dict[str, list[float]] = {}
    for figure, spans in traced:
        _print_group(figure, spans, last=2)
        for name, value in _phases(spans, last=2).items():
            phases.setdefault(name, []).append(value)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    for name, values in phases.items():
        print(f"median {name}: {statistics.median(values):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
