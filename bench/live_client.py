"""The load generator for live pages, run in its own process: every player's live page socket
open at once, each player sending at a steady rate, each delivery at another group member
timed.

Input is one JSON document on stdin, output one on stdout::

    python bench/live_client.py < job.json

The job: ``protocol`` (``"grove"`` or ``"otree"``), ``rate`` (messages a second per player),
``warmup_s`` and ``seconds`` (sending before and during the measured window), ``drain_s``
(how long every socket stays open after the measured window, for the last answers), and
``players``: one ``{"url": ws_url, "worker": name}`` per player, where ``worker`` names the
server process that holds the socket.

The two protocols, as each server's own page script speaks them:

* Grove (``server/static/grove-live.js``): ``{"type": "hello", "since": t, "seen": []}`` on
  connecting, ``{"type": "send", "id": key, "data": data}`` per message; the server answers
  ``{"type": "ack", ...}`` to the sender and ``{"type": "message", "id": n, "data": data}``
  to each recipient.
* oTree 6 (its ``live.js``): the message is the JSON text of ``data``; each recipient gets
  ``{"otree_success": true, "live_method_payload": data}`` (``false`` after an error).

The app answers each message to the whole group with the data unchanged (``{0: data}``), so
the data carries its sender, its sender's worker and its send time (``perf_counter``: one
process, one clock). A delivery at the sender itself is not a sample.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


@dataclass
class Tally:
    """What the players saw, shared by all of them (one event loop)."""

    start_at: float = 0.0
    measure_from: float = float("inf")
    measure_to: float = float("inf")
    sent: int = 0
    cross_worker_ms: list[float] = field(default_factory=list)
    same_worker_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unmeasured: int = 0  # deliveries of messages sent in the warm-up

    def measured(self, sent_at: float) -> bool:
        return self.measure_from <= sent_at < self.measure_to


def _payload(protocol: str, text: str | bytes) -> tuple[Any, str | None]:
    """The live method's data in one frame from the server, or None; and an error, if any."""
    message = json.loads(text)
    if protocol == "grove":
        if message.get("type") == "message":
            return message["data"], None
        if message.get("type") == "ack" and not message.get("ok"):
            return None, str(message.get("error"))
        return None, None
    if message.get("otree_success") is False:
        return None, "oTree: error in live_method"
    return message.get("live_method_payload"), None


async def _receive(ws: ClientConnection, protocol: str, me: int, worker: str, tally: Tally) -> None:
    async for text in ws:
        data, error = _payload(protocol, text)
        if error is not None:
            tally.errors.append(error)
        if not isinstance(data, dict) or data.get("from") == me:
            continue
        if not tally.measured(data["t"]):
            tally.unmeasured += 1
            continue
        latency_ms = (time.perf_counter() - data["t"]) * 1000
        if data["worker"] == worker:
            tally.same_worker_ms.append(latency_ms)
        else:
            tally.cross_worker_ms.append(latency_ms)


async def _player(
    job: dict[str, Any], me: int, tally: Tally, connected: asyncio.Barrier, go: asyncio.Event
) -> None:
    protocol, spec = job["protocol"], job["players"][me]
    async with connect(spec["url"], max_size=None, ping_interval=None) as ws:
        if protocol == "grove":
            hello = {"type": "hello", "since": time.time(), "seen": []}
            await ws.send(json.dumps(hello))
        reader = asyncio.create_task(_receive(ws, protocol, me, spec["worker"], tally))
        await connected.wait()
        await go.wait()
        interval = 1 / job["rate"]
        # A steady rate from a random phase, so that the players do not all send at once.
        next_send = tally.start_at + random.random() * interval
        number = 0
        while next_send < tally.measure_to:
            await asyncio.sleep(max(0.0, next_send - time.perf_counter()))
            data = {"from": me, "worker": spec["worker"], "n": number, "t": time.perf_counter()}
            if protocol == "grove":
                await ws.send(json.dumps({"type": "send", "id": f"{me}-{number}", "data": data}))
            else:
                await ws.send(json.dumps(data))
            if tally.measured(data["t"]):
                tally.sent += 1
            number += 1
            next_send += interval
        # Connected until every player's last send has had its drain time, not only this
        # one's: a group member's last message can come after this player's own last send.
        await asyncio.sleep(max(0.0, tally.measure_to + job["drain_s"] - time.perf_counter()))
        reader.cancel()


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 1)


def _summary(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50_ms": _percentile(ordered, 0.5),
        "p99_ms": _percentile(ordered, 0.99),
        "max_ms": round(ordered[-1], 1) if ordered else None,
    }


async def run(job: dict[str, Any]) -> dict[str, Any]:
    """Open every player's socket, send for ``warmup_s + seconds``; the measured figures.

    Latencies are milliseconds from a send to its delivery at another group member, split by
    whether that member's socket is on the sender's worker; only messages sent in the
    measured window count, and each should reach ``group_size - 1`` other members.
    """
    players = len(job["players"])
    connected = asyncio.Barrier(players + 1)
    go = asyncio.Event()
    tally = Tally()
    tasks = [asyncio.create_task(_player(job, me, tally, connected, go)) for me in range(players)]
    # Every socket is open before anyone sends; the clock starts then.
    await asyncio.wait_for(connected.wait(), timeout=120)
    tally.start_at = time.perf_counter() + 0.2
    tally.measure_from = tally.start_at + job["warmup_s"]
    tally.measure_to = tally.measure_from + job["seconds"]
    go.set()
    await asyncio.gather(*tasks)
    expected = tally.sent * (job["group_size"] - 1)
    delivered = len(tally.cross_worker_ms) + len(tally.same_worker_ms)
    return {
        "players": players,
        "rate_per_player": job["rate"],
        "seconds": job["seconds"],
        "messages_sent": tally.sent,
        "messages_per_s": round(tally.sent / job["seconds"], 1),
        "deliveries": delivered,
        "deliveries_expected": expected,
        "deliveries_per_s": round(delivered / job["seconds"], 1),
        "cross_worker": _summary(tally.cross_worker_ms),
        "same_worker": _summary(tally.same_worker_ms),
        "all": _summary(tally.cross_worker_ms + tally.same_worker_ms),
        "errors": len(tally.errors),
        "first_errors": tally.errors[:5],
    }


def main() -> int:
    """Read the job from stdin, run it, print the result as JSON."""
    job = json.load(sys.stdin)
    json.dump(asyncio.run(run(job)), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
