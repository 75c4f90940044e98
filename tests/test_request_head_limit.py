"""A request's head (request line and headers) is limited on the production server, as h11
limits it: a client streaming one endless header line gets a 431 and a closed connection
instead of making a worker buffer it (hundreds of MB) while everyone else waits."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from server.cli.serving import MAX_HEAD_BYTES
from tests import databases
from tests.live_server import live_server

pytestmark = pytest.mark.slow


def _endless_header(host: str, port: int, stop: threading.Event, answers: list[bytes]) -> None:
    """Stream one header line until the server answers or closes (or ``stop``)."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /demo HTTP/1.1\r\nHost: localhost\r\nX-Endless: ")
        sent = 0
        try:
            while not stop.is_set() and sent < 50 * MAX_HEAD_BYTES:
                sock.sendall(b"a" * 8192)
                sent += 8192
        except OSError:
            pass  # closed by the server, as it should
        try:
            answers.append(sock.recv(200))
        except OSError:
            answers.append(b"")


def test_an_endless_header_is_refused_and_stalls_nobody(tmp_path):
    with live_server(databases.database_url(tmp_path)) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        answers: list[bytes] = []
        stop = threading.Event()
        attackers = [
            threading.Thread(target=_endless_header, args=(host, int(port), stop, answers))
            for _ in range(4)
        ]
        for attacker in attackers:
            attacker.start()
        try:
            slowest = 0.0
            for _ in range(10):
                started = time.monotonic()
                assert httpx.get(f"{base_url}/demo", timeout=10).status_code == 200
                slowest = max(slowest, time.monotonic() - started)
        finally:
            for attacker in attackers:
                attacker.join(timeout=30)
            stop.set()
        assert slowest < 2.0, f"a page took {slowest:.1f} s while heads were streamed"
        assert len(answers) == 4
        for answer in answers:
            # The 431 arrives unless the connection was reset before the client read it.
            assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer

        # A big but reasonable head (a 40 KB cookie) still gets through.
        big = httpx.get(f"{base_url}/demo", headers={"Cookie": "c=" + "x" * 40_000}, timeout=10)
        assert big.status_code == 200

        # Bodies are no head: big ones, one after another on a kept-alive connection (a
        # body's last chunk, or a whole request in one chunk, once counted as a head).
        with httpx.Client(base_url=base_url, timeout=30) as client:
            created = client.post(
                "/api/sessions/", json={"session_config_name": "survey", "num_participants": 1}
            )
            detail = client.get(f"/api/sessions/{created.json()['code']}").json()
            code = detail["participants"][0]["code"]
            for number in range(12):
                value = "v" * (100_000 + 7_919 * number)
                posted = client.post(
                    f"/api/participant_vars/{code}", json={"vars": {f"big{number}": value}}
                )
                assert posted.status_code == 200, (number, posted.text[:100])
