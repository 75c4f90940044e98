"""A throwaway PostgreSQL server for the test session (Debian's postgresql package).

``DATABASE_URL_POSTGRES_TEST`` (a server URL whose user may create databases) is used when
set; otherwise the tests start their own cluster in a temporary folder with ``initdb`` and
``pg_ctl``, as the ``postgres`` user when running as root (initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.live_server import free_port


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def postgres_available() -> bool:
    """Can the tests reach or start a PostgreSQL server?"""
    return bool(os.environ.get("DATABASE_URL_POSTGRES_TEST")) or _pg_bin() is not None


def _run_as_postgres(command: list[str]) -> None:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a server URL (``postgresql://user@host:port``) for the length of the block."""
    existing = os.environ.get("DATABASE_URL_POSTGRES_TEST")
    if existing:
        yield existing.rsplit("/", 1)[0] if existing.count("/") > 2 else existing
        return
    bin_dir = _pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    workdir = Path(tempfile.mkdtemp(prefix="grove-pg-"))
    data_dir, socket_dir = workdir / "data", workdir / "socket"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (workdir, socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = free_port()
    _run_as_postgres(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
    )
    options = (
        f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    _run_as_postgres(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-o",
            options,
            "-w",
            "-l",
            str(workdir / "log"),
            "start",
        ]
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        _run_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)


_admin_engines: dict[str, sa.Engine] = {}


def _admin_engine(server_url: str) -> sa.Engine:
    """An engine on the server's ``postgres`` database, one per server, kept for the run."""
    if server_url not in _admin_engines:
        _admin_engines[server_url] = sa.create_engine(
            server_url.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
            isolation_level="AUTOCOMMIT",
            poolclass=sa.pool.NullPool,
        )
    return _admin_engines[server_url]


def create_database(server_url: str) -> str:
    """Create a fresh, empty database on the server; return its URL."""
    name = f"grove_test_{uuid.uuid4().hex[:12]}"
    with _admin_engine(server_url).connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


def drop_database(url: str) -> None:
    """Drop a database made by ``create_database``, ending any connection still open to it."""
    server_url, name = url.rsplit("/", 1)
    with _admin_engine(server_url).connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
