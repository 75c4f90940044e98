"""Grove installed with pip into a new virtualenv, as a user installs it (no network).

``install_grove(folder)`` copies the package's sources (the build writes ``build/`` beside
them), makes a virtualenv and runs ``pip install --no-deps --no-build-isolation`` of the copy.
The dependencies come from this run's own environment, but only those pyproject.toml declares
and what they require in turn (linked into one folder that a ``.pth`` file adds), so a module
Grove imports without declaring it fails here as it would in a user's ``pip install``. The
result runs the ``otree`` and ``grove`` console scripts from any folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import Distribution, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    dependencies = _link_declared_dependencies(folder / "dependencies")
    (site / "grove_test_dependencies.pth").write_text(f"{dependencies}\n")
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


def _declared_distributions() -> list[Distribution]:
    """pyproject.toml's dependencies and build requirements, with everything they require
    (extras and environment markers followed), as installed in this environment."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    queue = [
        Requirement(text)
        for text in [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    ]
    found: dict[str, tuple[Distribution, set[str]]] = {}
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in found and extras <= found[name][1]:
            continue
        dist = distribution(requirement.name)
        extras |= found[name][1] if name in found else set()
        found[name] = (dist, extras)
        for text in dist.requires or []:
            needed = Requirement(text)
            environments = [{"extra": extra} for extra in extras or {""}]
            if needed.marker is None or any(needed.marker.evaluate(e) for e in environments):
                queue.append(needed)
    return [dist for dist, _ in found.values()]


def _link_declared_dependencies(folder: Path) -> Path:
    """A folder holding links to the declared distributions' files (modules, packages, their
    metadata), and nothing else of this environment."""
    folder.mkdir(parents=True)
    for dist in _declared_distributions():
        for file in dist.files or []:
            top = Path(file).parts[0]
            if top in ("..", "__pycache__") or (folder / top).exists():
                continue
            located = Path(str(dist.locate_file(top)))
            if located.exists():
                (folder / top).symlink_to(located)
    return folder
