"""oTree in its own virtual environment (``bench/.venv-otree``), installed from PyPI at the
pinned version the first time the benchmark needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OTREE_VERSION = "6.0.15"
# oTree's bots need requests; its own requirements do not name it.
OTREE_PACKAGES = [f"otree=={OTREE_VERSION}", "requests==2.32.5"]
VENV = Path(__file__).resolve().parent / ".venv-otree"


def otree_python() -> Path:
    """The oTree venv's Python interpreter."""
    return VENV / "bin" / "python"


def otree_command() -> Path:
    """The ``otree`` command of the oTree venv."""
    return VENV / "bin" / "otree"


def installed_version() -> str | None:
    """The oTree version in the venv, or None when it is not installed."""
    if not otree_python().exists():
        return None
    completed = subprocess.run(
        [str(otree_python()), "-c", "import importlib.metadata as m; print(m.version('otree'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() or None


def ensure_otree() -> Path:
    """Create the venv and install oTree unless the pinned version is already there."""
    if installed_version() == OTREE_VERSION:
        return otree_command()
    if not otree_python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(otree_python()), "-m", "pip", "install", "-q", *OTREE_PACKAGES], check=True)
    if installed_version() != OTREE_VERSION:
        raise RuntimeError(f"could not install otree=={OTREE_VERSION} into {VENV}")
    return otree_command()
