"""Real server processes for tests that cross workers: ``python -m server prodserver``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(
    database_url: str,
    *,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    startup_timeout: float = 60.0,
    log_path: Path | None = None,
) -> Iterator[str]:
    """Start ``prodserver --workers N`` on a free port; yield its base URL; stop it after.

    The server's output goes to ``log_path`` when given (kept, for a test to show on failure),
    else to a temporary file.
    """
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GROVE_PROJECT_ROOT": str(REPO_ROOT),
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "server",
        "prodserver",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # A file, not a pipe: a pipe nobody reads would block a chatty server (closed below).
    if log_path is not None:
        log = open(log_path, "w+b")  # noqa: SIM115
    else:
        log = tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{base_url}/demo", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
