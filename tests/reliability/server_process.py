"""A real ``prodserver`` in its own process group, for tests that kill it (``kill -9``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from tests.live_server import REPO_ROOT, free_port


@dataclass
class ServerProcess:
    """A running ``prodserver``: uvicorn's supervisor (the group leader) and its workers."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: IO[bytes]

    def workers(self) -> list[int]:
        """The worker processes' ids (the supervisor's children running the app)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:  # gone meanwhile
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid and b"spawn_main" in command:
                found.append(int(entry.name))
        return sorted(found)

    def kill_everything(self) -> None:
        """``kill -9`` the supervisor and every worker at once (their process group)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def kill_one_worker(self, index: int = 0) -> int:
        """``kill -9`` one worker; uvicorn's supervisor starts another. Returns its pid."""
        workers = self.workers()
        assert workers, f"no worker processes found under {self.process.pid}"
        victim = workers[index % len(workers)]
        os.kill(victim, signal.SIGKILL)
        return victim

    def output(self) -> str:
        """What the server has logged so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def _wait_until_up(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server exited with {server.process.returncode}:\n{server.output()}"
            )
        try:
            if httpx.get(f"{server.base_url}/demo", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not start in time:\n{server.output()}")
        time.sleep(0.2)


@contextmanager
def server_process(
    database_url: str,
    project_root: Path,
    log_path: Path,
    *,
    workers: int = 2,
    launcher: tuple[str, ...] = (),
) -> Iterator[ServerProcess]:
    """Start ``prodserver --workers N`` for ``project_root`` in a new process group on a free
    port; yield it once it answers; stop what is left of it afterwards (SIGTERM, then
    SIGKILL). The server's output goes to ``log_path``. ``launcher`` is a command that execs
    the server (e.g. ``prlimit --fsize=...``)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "GROVE_PROJECT_ROOT": str(project_root)}
    command = [*launcher, sys.executable, "-m", "server", "prodserver", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    log = open(log_path, "a+b")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killpg reaches every worker
    )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_up(server, 60)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
