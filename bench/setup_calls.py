"""Setting up a measurement over the servers' own REST API (never timed): sessions,
participant codes, and starting participants with the flow client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from bench.servers import REST_KEY, RunningServer

FLOW_CLIENT = Path(__file__).resolve().parent / "flow_client.py"


def rest(server: RunningServer, method: str, path: str, body: dict | None = None) -> object:
    """One REST call with the benchmark's key; raise on any non-2xx answer."""
    response = httpx.request(
        method, server.base_url + path, json=body, timeout=600, headers={"otree-rest-key": REST_KEY}
    )
    if response.status_code >= 300:
        raise RuntimeError(
            f"{server.name} {method} {path}: HTTP {response.status_code} {response.text[:300]}"
        )
    return response.json()


def create_session(
    server: RunningServer, config: str, participants: int, room: str | None = None
) -> tuple[str, list[str]]:
    """Create a session over REST; return its code and its participants' codes in order."""
    body: dict[str, object] = {"session_config_name": config, "num_participants": participants}
    if room:
        body["room_name"] = room
    created = rest(server, "POST", "/api/sessions", body)
    code = created["code"]  # type: ignore[index]
    detail = rest(server, "GET", f"/api/sessions/{code}")
    people = sorted(detail["participants"], key=lambda p: p["id_in_session"])  # type: ignore[index]
    return code, [person["code"] for person in people]


def run_flow(job: dict, python: Path | None = None) -> dict:
    """Run one flow-client job in its own process; return its JSON result."""
    completed = subprocess.run(
        [str(python or sys.executable), str(FLOW_CLIENT)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"flow {job['flow']} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout)


def start_participants(server: RunningServer, codes: list[str]) -> list[str]:
    """Open every participant's start link; return the path of the page each one is on."""
    return run_flow({"flow": "start", "base_url": server.base_url, "codes": codes})["paths"]
