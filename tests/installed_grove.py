"""Grove installed with pip into a new virtualenv, as a user installs it (no network).

``install_grove(folder)`` copies the package's sources (the build writes ``build/`` beside
them), makes a virtualenv whose dependencies come from this run's own environment (a ``.pth``
file: a venv made from .venv's interpreter sees the base interpreter's site-packages, not
.venv's), and runs ``pip install --no-deps --no-build-isolation`` of the copy. The result runs
the ``otree`` and ``grove`` console scripts from any folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGE_FILES = ("pyproject.toml", "README.md", "requirements.txt", "server", "otree")


@dataclass(frozen=True)
class InstalledGrove:
    """A virtualenv with Grove installed, and the environment its commands run in."""

    venv: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def command(self, name: str) -> Path:
        """A console script of the venv (``otree``, ``grove``)."""
        return self.venv / "bin" / name

    def run(
        self, name: str, *args: str, cwd: Path, timeout: float = 180
    ) -> subprocess.CompletedProcess:
        """Run a console script in ``cwd`` (the project's folder, as a user does)."""
        return subprocess.run(
            [self.command(name), *args],
            env=self.env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def install_grove(folder: Path) -> InstalledGrove:
    """Install this checkout of Grove into ``folder/venv`` with pip; about 20 s."""
    source = folder / "grove-source"
    source.mkdir(parents=True)
    for name in PACKAGE_FILES:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(
                REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(REPO_ROOT / name, source / name)
    venv = folder / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    site = next((venv / "lib").glob("python3*/site-packages"))
    dependencies = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (site / "grove_test_dependencies.pth").write_text(dependencies + "\n")
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(folder),
        "PYTHONWARNINGS": "ignore",
        "PIP_NO_INDEX": "1",
    }
    installed = InstalledGrove(venv, env)
    subprocess.run(
        [
            installed.python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            str(source),
        ],
        check=True,
        env=env,
        cwd=folder,
        timeout=180,
    )
    return installed
