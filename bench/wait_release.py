"""Wait page release latency on Grove: from the last arrival's POST being answered to each
other group member's status answer arriving, with 2 uvicorn workers, on SQLite and PostgreSQL.

``python -m bench.wait_release`` (``--groups 10 --group-size 4 --rounds 6``): each round, in
every group at once, all members but one submit a page and reach the wait page, then hold
``.../status?wait=1`` as the wait page's own script does (each player its own connection,
so the players spread over both workers); once every hold is in place the last member
submits. Each waiting member's answer is one sample (one clock: the client is one process):
its time after the last POST's answer arrived (negative when it came first: the release
commits before that answer is sent), and after that POST was sent (``from_post_sent_``). A
hold that answers ``{"ready": false}`` or fails is counted, not sampled. Prints p50/p99
as JSON. PostgreSQL is a throwaway cluster (``tests/postgres.py``), left out with
``--skip-postgres``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.servers import REPO_ROOT, RunningServer, _common_env, _serve, free_port

REST_KEY = "bench-wait-rest-key-0123456789"
# How long the waiting members' holds get to reach the server before the last one submits.
HOLD_SETTLE_SECONDS = 0.3

APP = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "bench_release"
    PLAYERS_PER_GROUP = {group_size}
    NUM_ROUNDS = {rounds}


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Arrive(Page):
    pass


class Sync(WaitPage):
    pass


page_sequence = [Arrive, Sync]
"""

SETTINGS = """\
SESSION_CONFIGS = [
    dict(name="bench_release", app_sequence=["bench_release"], num_demo_participants={n})
]
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.0, participation_fee=0.0)
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
ROOMS = []
ADMIN_USERNAME = "admin"
SECRET_KEY = "bench-wait-secret-key-0123456789-0123456789"
INSTALLED_APPS = ["otree"]
"""


def build_project(folder: Path, players: int, group_size: int, rounds: int) -> Path:
    """A project in oTree's layout: a page without fields, then a wait page, each round."""
    app = folder / "bench_release"
    app.mkdir(parents=True)
    (folder / "_static").mkdir()
    (folder / "_templates").mkdir()
    (folder / "settings.py").write_text(SETTINGS.format(n=players))
    (app / "__init__.py").write_text(APP.format(group_size=group_size, rounds=rounds))
    (app / "Arrive.html").write_text("{{ block content }}<button>Next</button>{{ endblock }}\n")
    return folder


@contextmanager
def grove(project: Path, database_url: str, workers: int) -> Iterator[RunningServer]:
    """Grove's prodserver on ``database_url``."""
    port = free_port()
    env = _common_env()
    env.update(DATABASE_URL=database_url, GROVE_PROJECT_ROOT=str(project), OTREE_REST_KEY=REST_KEY)
    command = [sys.executable, "-m", "server", "prodserver", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    with _serve("grove", command, REPO_ROOT, env, port, None) as server:
        yield server


def create_session(server: RunningServer, players: int) -> list[str]:
    """A session of the benchmark's config over REST; its participants' codes in order."""
    headers = {"otree-rest-key": REST_KEY}
    body = {"session_config_name": "bench_release", "num_participants": players}
    with httpx.Client(base_url=server.base_url, timeout=600, headers=headers) as client:
        created = client.post("/api/sessions", json=body)
        created.raise_for_status()
        detail = client.get(f"/api/sessions/{created.json()['code']}")
        detail.raise_for_status()
    people = sorted(detail.json()["participants"], key=lambda p: p["id_in_session"])
    return [person["code"] for person in people]


class Player:
    """One participant with its own connection (so players land on different workers)."""

    def __init__(self, base_url: str, code: str) -> None:
        self.code = code
        self.client = httpx.AsyncClient(base_url=base_url, timeout=60)
        self.path = ""
        self.next_url: str | None = None

    async def start(self) -> None:
        response = await self.client.get(f"/InitializeParticipant/{self.code}")
        self.path = str(response.headers["location"])

    async def submit(self) -> str:
        """POST the current page; the wait page (or next page) it leads to."""
        response = await self.client.post(self.path, data={})
        if response.status_code != 303:
            raise RuntimeError(f"{self.path}: {response.status_code} {response.text[:200]}")
        self.path = str(response.headers["location"])
        return self.path

    async def wait_released(self) -> tuple[bool, float]:
        """Hold the status URL as the wait page does: (ready, perf_counter at the answer)."""
        response = await self.client.get(self.path + "/status", params={"wait": "1"})
        at = time.perf_counter()
        ready = response.status_code == 200 and response.json().get("ready") is True
        self.next_url = response.json().get("url") if ready else None
        return ready, at

    async def follow(self) -> None:
        """Load the page the status answer named, as the wait page's script does (else the
        wait page again: it passes on to the next page) and keep where it led."""
        url, self.next_url = self.next_url or self.path, None
        response = await self.client.get(url, follow_redirects=True)
        response.raise_for_status()
        self.path = response.url.path


async def _group_round(
    group: list[Player], samples: list[float], from_sent: list[float], failures: list[str]
) -> None:
    last, waiting = group[-1], group[:-1]
    await asyncio.gather(*(player.submit() for player in waiting))
    holds = [asyncio.create_task(player.wait_released()) for player in waiting]
    await asyncio.sleep(HOLD_SETTLE_SECONDS + random.random() * 0.05)
    sent = time.perf_counter()
    await last.submit()
    answered = time.perf_counter()
    for player, (ready, at) in zip(waiting, await asyncio.gather(*holds), strict=True):
        if ready:
            samples.append((at - answered) * 1000)
            from_sent.append((at - sent) * 1000)
        else:
            failures.append(player.code)
    await asyncio.gather(*(player.follow() for player in group))


async def _run(base_url: str, codes: list[str], group_size: int, rounds: int) -> dict[str, Any]:
    players = [Player(base_url, code) for code in codes]
    await asyncio.gather(*(player.start() for player in players))
    groups = [players[i : i + group_size] for i in range(0, len(players), group_size)]
    samples: list[float] = []
    from_sent: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    for _round in range(rounds):
        await asyncio.gather(
            *(_group_round(group, samples, from_sent, failures) for group in groups)
        )
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(player.client.aclose() for player in players))
    return {
        "releases": len(groups) * rounds,
        "samples": len(samples),
        "not_released": len(failures),
        **_percentiles("", samples),
        **_percentiles("from_post_sent_", from_sent),
        "seconds": round(elapsed, 1),
    }


def _percentiles(prefix: str, values: list[float]) -> dict[str, float | None]:
    """p50, p99 and max in ms (None without samples). A negative value: the waiting member
    had its answer before the last arrival had the answer to its POST (the release commits
    before that answer is sent)."""
    ordered = sorted(values)
    if not ordered:
        return {f"{prefix}p50_ms": None, f"{prefix}p99_ms": None, f"{prefix}max_ms": None}
    return {
        f"{prefix}p50_ms": round(statistics.median(ordered), 1),
        f"{prefix}p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 1),
        f"{prefix}max_ms": round(ordered[-1], 1),
    }


def measure(
    folder: Path, groups: int, group_size: int, rounds: int, workers: int, postgres: bool
) -> dict[str, Any]:
    """The release figures on SQLite (``grove_sqlite``) and, with ``postgres``, a throwaway
    PostgreSQL cluster (``grove_postgresql``), each on a fresh database in ``folder``."""
    players = groups * group_size
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        project = build_project(folder / "project", players, group_size, rounds)
        runs = [("grove_sqlite", f"sqlite:///{folder / 'grove.sqlite3'}")]
        if postgres:
            from tests.postgres import create_database, postgres_server

            runs.append(
                ("grove_postgresql", create_database(stack.enter_context(postgres_server())))
            )
        for name, url in runs:
            print(f"[bench] {name}", file=sys.stderr, flush=True)
            with grove(project, url, workers) as server:
                codes = create_session(server, players)
                results[name] = asyncio.run(_run(server.base_url, codes, group_size, rounds))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wait_release", description=__doc__)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="grove-bench-wait-") as tmp:
        results = measure(
            Path(tmp),
            args.groups,
            args.group_size,
            args.rounds,
            args.workers,
            postgres=not args.skip_postgres,
        )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
