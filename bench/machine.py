"""A description of the machine a benchmark ran on, saved with its results."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def describe_machine() -> dict[str, Any]:
    """CPU, memory, Python, the git commit (and files changed since) and the load average."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory = meminfo.read_text().splitlines()[0].split(":", 1)[1].strip()
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split("\n")
    except OSError:
        commit, changed = "", []
    exported = root / ".commit"  # an export made by bench/ab.py: no git repository
    if not commit and exported.exists():
        commit, changed = exported.read_text().strip(), []
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        # Tracked files with uncommitted changes: measured too, though not in the commit.
        "uncommitted_changes": [line[3:] for line in changed if line.strip()],
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
