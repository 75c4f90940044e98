"""CPU time of a process tree, read from ``/proc``: a server's cost per request that depends
far less on the other load of a shared machine than its throughput does."""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (None: no such process)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def tree_cpu_seconds(root: int) -> float:
    """User plus system CPU seconds of ``root`` and every process below it: each live
    process's own time and the time of the children it has already reaped (a finished
    worker's or a closed PostgreSQL connection's), so each process counts once."""
    tree = _children()
    ticks = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        fields = _stat(pid)
        if fields is None:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat(5), 12-15 after the name.
        ticks += sum(int(value) for value in fields[11:15])
        pending += tree.get(pid, [])
    return ticks / _TICKS


def postmaster_pid(port: int) -> int | None:
    """The PostgreSQL server listening on ``port`` (started with ``-p port``), if any."""
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"/postgres") and b"-p" in argv:
            at = argv.index(b"-p")
            if at + 1 < len(argv) and argv[at + 1] == str(port).encode():
                return int(entry.name)
    return None
