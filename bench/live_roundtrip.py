"""Live pages: round trip from one player's ``liveSend`` to the delivery at the other members
of the group, with many players connected, on Grove (2 workers; SQLite and PostgreSQL) and on
oTree 6 (its one process) with the same app.

``python -m bench.live_roundtrip`` (``--players 100 --group-size 4 --seconds 20 --rate 2``):
every player opens its live page's WebSocket and sends ``rate`` messages a second; the live
method adds to a group counter (a write, as real live methods do) and returns the message to
the whole group. Each delivery at another member than the sender is one latency sample (send
to receipt, one clock: the client is one process). Reports p50/p99 and the messages the
server ran per second. oTree runs from ``bench/.venv-otree`` (installed on first use), or is
left out with ``--skip-otree``; PostgreSQL is a throwaway cluster (``tests/postgres.py``), or
left out with ``--skip-postgres``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.servers import REPO_ROOT, RunningServer, _common_env, _serve, free_port

# Production requires a REST key of 16 characters or more (bench.servers' is shorter).
REST_KEY = "bench-live-rest-key-0123456789"

APP = """\
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "bench_live"
    PLAYERS_PER_GROUP = {group_size}
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    counter = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def live_echo(player, data):
    player.group.counter += 1
    return {{0: data}}


class Play(Page):
    live_method = live_echo


page_sequence = [Play]
"""

SETTINGS = """\
SESSION_CONFIGS = [dict(name="bench_live", app_sequence=["bench_live"], num_demo_participants={n})]
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.0, participation_fee=0.0)
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
ROOMS = []
ADMIN_USERNAME = "admin"
SECRET_KEY = "bench-live-secret-key-0123456789-0123456789"
INSTALLED_APPS = ["otree"]
"""


def build_project(folder: Path, players: int, group_size: int) -> Path:
    """One project folder in oTree's layout, which both servers run as it is."""
    (folder / "bench_live").mkdir(parents=True)
    (folder / "_static").mkdir()
    (folder / "_templates").mkdir()
    (folder / "settings.py").write_text(SETTINGS.format(n=players))
    (folder / "bench_live" / "__init__.py").write_text(APP.format(group_size=group_size))
    (folder / "bench_live" / "Play.html").write_text(
        "{{ block content }}<p>live</p>{{ endblock }}\n"
    )
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


@contextmanager
def otree(otree_bin: Path, project: Path) -> Iterator[RunningServer]:
    """oTree's prodserver (one process) in the project folder, on SQLite."""
    port = free_port()
    env = _common_env(otree_bin.parent)
    env["OTREE_REST_KEY"] = REST_KEY
    command = [str(otree_bin), "prodserver", f"127.0.0.1:{port}"]
    with _serve("otree", command, project, env, port, None, ready_path="/") as server:
        yield server


def create_session(server: RunningServer, players: int) -> tuple[str, list[str]]:
    """A session of the benchmark's config over REST: its code and its participants' codes."""
    headers = {"otree-rest-key": REST_KEY}
    body = {"session_config_name": "bench_live", "num_participants": players}
    with httpx.Client(base_url=server.base_url, timeout=600, headers=headers) as client:
        created = client.post("/api/sessions", json=body)
        created.raise_for_status()
        code = created.json()["code"]
        detail = client.get(f"/api/sessions/{code}")
        detail.raise_for_status()
    people = sorted(detail.json()["participants"], key=lambda p: p["id_in_session"])
    return code, [person["code"] for person in people]


def _page_paths(server: RunningServer, codes: list[str]) -> list[str]:
    paths = []
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        for code in codes:
            response = client.get(f"/InitializeParticipant/{code}", follow_redirects=True)
            response.raise_for_status()
            paths.append(response.url.path)
    return paths


def _socket_url(server: RunningServer, session: str, code: str, path: str) -> str:
    base = server.base_url.replace("http://", "ws://")
    index = path.rstrip("/").rsplit("/", 1)[-1]
    if server.name == "grove":
        return f"{base}/live/{code}/{index}"
    query = f"participant_code={code}&page_name=Play&page_index={index}&session_code={session}"
    return f"{base}/live?{query}"


async def _player(
    server_name: str,
    url: str,
    sender: str,
    rate: float,
    seconds: float,
    start_at: float,
    latencies: list[float],
    sent: list[int],
) -> None:
    async with connect(url, max_size=None) as ws:
        if server_name == "grove":
            await ws.send(json.dumps({"type": "hello", "since": time.time(), "seen": []}))

        async def receive() -> None:
            async for text in ws:
                message = json.loads(text)
                if server_name == "grove":
                    if message.get("type") != "message":
                        continue
                    data = message["data"]
                else:
                    data = message.get("live_method_payload")
                if isinstance(data, dict) and data.get("from") != sender:
                    latencies.append((time.perf_counter() - data["t"]) * 1000)

        reader = asyncio.create_task(receive())
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        number = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            data = {"from": sender, "t": time.perf_counter()}
            if server_name == "grove":
                text = json.dumps({"type": "send", "id": f"{sender}-{number}", "data": data})
            else:
                text = json.dumps(data)
            await ws.send(text)
            number += 1
            await asyncio.sleep(1 / rate)
        sent.append(number)
        await asyncio.sleep(2.0)  # the last answers
        reader.cancel()


async def _load(
    server: RunningServer, session: str, codes: list[str], paths: list[str], args: Any
) -> dict[str, Any]:
    latencies: list[float] = []
    sent: list[int] = []
    start_at = time.perf_counter() + 3.0  # every socket open first
    await asyncio.gather(
        *(
            _player(
                server.name,
                _socket_url(server, session, code, path),
                code,
                args.rate,
                args.seconds,
                start_at,
                latencies,
                sent,
            )
            for code, path in zip(codes, paths, strict=True)
        )
    )
    latencies.sort()
    expected = sum(sent) * (args.group_size - 1)
    return {
        "players": len(codes),
        "messages_sent": sum(sent),
        "messages_per_second": round(sum(sent) / args.seconds, 1),
        "deliveries": len(latencies),
        "deliveries_expected": expected,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1) if latencies else None,
    }


def measure(server: RunningServer, args: Any) -> dict[str, Any]:
    """Create a session, start every player, load its live pages; the figures."""
    session, codes = create_session(server, args.players)
    paths = _page_paths(server, codes)
    return asyncio.run(_load(server, session, codes, paths, args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_roundtrip", description=__doc__)
    parser.add_argument("--players", type=int, default=100)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=2.0, help="messages a second per player")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-otree", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="grove-bench-live-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        project = build_project(folder / "project", args.players, args.group_size)
        runs = [("grove_sqlite", f"sqlite:///{folder / 'grove.sqlite3'}")]
        if not args.skip_postgres:
            from tests.postgres import create_database, postgres_server

            runs.append(
                ("grove_postgresql", create_database(stack.enter_context(postgres_server())))
            )
        for name, url in runs:
            print(f"[bench] {name}", file=sys.stderr, flush=True)
            with grove(project, url, args.workers) as server:
                results[name] = measure(server, args)
        if not args.skip_otree:
            from bench.otree_env import ensure_otree

            print("[bench] otree", file=sys.stderr, flush=True)
            otree_project = build_project(folder / "otree_project", args.players, args.group_size)
            with otree(ensure_otree(), otree_project) as server:
                results["otree"] = measure(server, args)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
