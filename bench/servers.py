"""The three servers under test, each started on a free loopback port in its own processes:
Grove (``python -m server prodserver``), oTree (``otree prodserver``) and the bare Starlette
floor (``bench.floor_serve``, with Grove's uvicorn options)."""

from __future__ import annotations

import compileall
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Production refuses a REST key under 16 characters and a default or short secret key
# (server/secret_key.py); tests/test_bench_harness.py checks these pass.
REST_KEY = "bench-rest-key-0123456789"
SECRET_KEY = secrets.token_urlsafe(48)
ADMIN_PASSWORD = "bench-admin-password"


@dataclass
class RunningServer:
    """A started server: its name, base URL, database file and process."""

    name: str
    base_url: str
    database: Path | None
    process: subprocess.Popen[bytes]
    log: Path | None = None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"{url}: server exited with {process.returncode}:\n"
                f"{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}: server did not start in {timeout:.0f} s")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and every process it started (its own process group)."""
    try:
        os.killpg(process.pid, 15)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


@contextmanager
def _serve(
    name: str,
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    port: int,
    database: Path | None,
    ready_path: str = "/",
) -> Iterator[RunningServer]:
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / f"{name}.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(process, base_url + ready_path, log, timeout=90)
            yield RunningServer(name, base_url, database, process, log)
        finally:
            _stop(process)


def compile_bytecode(source: Path) -> None:
    """Compile the ``server`` package of the source tree ``source`` to bytecode in its
    ``__pycache__`` folders, as ``pip install`` does for an installed package.

    A timed command started from a source tree then does not compile Grove's modules first:
    where the environment sets PYTHONDONTWRITEBYTECODE (this machine's does), Python would
    compile every module at every start (about 80 ms of CPU for a bot run), which neither an
    installed Grove nor the pip-installed oTree it is compared with ever does. Raises
    RuntimeError when a module does not compile.
    """
    if not compileall.compile_dir(source / "server", quiet=1):
        raise RuntimeError(f"{source / 'server'} does not compile")


def scratch_env(path_prefix: Path | None = None) -> dict[str, str]:
    """This environment without the project's variables (OTREE_*, GROVE_*, DATABASE_URL),
    with ``path_prefix`` in front of PATH if given (oTree starts ``otree`` by name)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTREE_", "GROVE_", "DATABASE_URL"))
    }
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env.get('PATH', '')}"
    return env


def _common_env(path_prefix: Path | None = None) -> dict[str, str]:
    env = scratch_env(path_prefix)
    env.update(
        OTREE_REST_KEY=REST_KEY,
        OTREE_SECRET_KEY=SECRET_KEY,
        OTREE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        OTREE_AUTH_LEVEL="STUDY",
        OTREE_PRODUCTION="1",
        PYTHONUNBUFFERED="1",
        # Production limits a key to 600 API requests a minute; the benchmark makes that
        # many in a second. A limit it never reaches keeps the counting, as in production,
        # without refusing (oTree has no limit and ignores the variable).
        GROVE_API_RATE_LIMIT="1000000000",
    )
    return env


@contextmanager
def grove_server(
    project: Path,
    data_dir: Path,
    *,
    workers: int,
    database_url: str | None = None,
    source: Path = REPO_ROOT,
) -> Iterator[RunningServer]:
    """Grove's production server with ``workers`` processes, on the SQLite file
    ``data_dir/grove.sqlite3`` or on ``database_url`` if given, run from the source tree
    ``source`` (another revision's export: ``bench/ab.py``)."""
    port = free_port()
    database = None if database_url else data_dir / "grove.sqlite3"
    env = _common_env()
    env.update(
        DATABASE_URL=database_url or f"sqlite:///{database}",
        GROVE_PROJECT_ROOT=str(project),
        PYTHONPATH=str(source),
    )
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
    with _serve("grove", command, source, env, port, database) as server:
        yield server


@contextmanager
def otree_server(otree_bin: Path, project: Path) -> Iterator[RunningServer]:
    """oTree's production server (one process: oTree keeps state in memory) on SQLite."""
    port = free_port()
    database = project / "db.sqlite3"
    database.unlink(missing_ok=True)
    env = _common_env(otree_bin.parent)  # its prodserver starts ``otree timeoutsubprocess``
    command = [str(otree_bin), "prodserver", f"127.0.0.1:{port}"]
    with _serve("otree", command, project, env, port, database) as server:
        yield server


@contextmanager
def floor_server(*, workers: int) -> Iterator[RunningServer]:
    """The bare Starlette JSON endpoint, served with Grove's uvicorn options."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.floor_serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with _serve("floor", command, REPO_ROOT, _common_env(), port, None) as server:
        yield server
