"""Grove installed with pip, and an oTree project folder run with its ``otree`` command.

What an oTree user does with Grove: ``pip install`` it, ``cd`` into the project, then
``otree test CONFIG`` and ``otree devserver PORT``. Nothing in the folder is edited (not even
the import lines); it is the project of tests/test_otree_dropin.py, which also passes
``otree test`` on oTree 6.0.15 itself. Participants' browsers (httpx, filling the HTML the
pages send) complete every config on the development server.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.config import Settings
from tests import databases
from tests.installed_grove import InstalledGrove, install_grove
from tests.live_server import free_port
from tests.test_cli_otree_commands import add_config_and_bots, grove_layout_project
from tests.test_otree_dropin import PROJECT, play_session

# A pip install into a new virtualenv, then a server: ~35 s. The development server keeps its
# data in a SQLite file in the project's folder, as oTree's does, so this runs once, on SQLite.
pytestmark = [pytest.mark.slow, pytest.mark.sqlite]

CONFIGS = ("bargain", "intro_only")


def _development_database(project: Path) -> Path:
    """The file a development server in ``project`` keeps its data in (Grove's default)."""
    return databases.sqlite_file(Settings(root=project).database_url)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledGrove:
    return install_grove(tmp_path_factory.mktemp("installed"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "my_otree_project"
    shutil.copytree(PROJECT, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_pip_install_gives_the_otree_and_grove_commands(
    installed: InstalledGrove, tmp_path: Path
) -> None:
    """The import packages with their data files, and both console scripts, which run oTree's
    commands from a project folder: startproject, startapp, test."""
    checked = subprocess.run(
        [
            installed.python,
            "-c",
            "import server, otree, otree.api; from server.app import BUILTIN_STATIC;"
            "from server.schema_versions import MIGRATIONS;"
            "print(server.__file__); print(otree.api.__file__);"
            "print((BUILTIN_STATIC / 'grove.css').is_file(), "
            "(MIGRATIONS / 'versions').is_dir(), (MIGRATIONS / 'script.py.mako').is_file())",
        ],
        env=installed.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    server_file, otree_file, data = checked.stdout.splitlines()
    assert server_file.startswith(str(installed.venv))
    assert otree_file.startswith(str(installed.venv))
    assert data == "True True True"
    for name in ("otree", "grove"):
        shown = installed.run(name, "--help", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert f"usage: {name} " in shown.stdout
        assert "startproject" in shown.stdout
    created = installed.run("otree", "startproject", "study", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    study = tmp_path / "study"
    created = installed.run("otree", "startapp", "my_game", cwd=study)
    assert created.returncode == 0, created.stderr
    add_config_and_bots(study)
    played = installed.run("otree", "test", "my_game", cwd=study)
    assert played.returncode == 0, played.stdout + played.stderr
    assert "my_game: OK (2 participants" in played.stdout
    project = grove_layout_project(tmp_path / "grove_layout")
    played = installed.run("grove", "test", "reader", "1", cwd=project)
    assert played.returncode == 0, played.stdout + played.stderr
    assert "reader: OK (1 participants" in played.stdout


def test_otree_test_passes_every_config_from_the_project_folder(
    installed: InstalledGrove, project: Path
) -> None:
    for config in CONFIGS:
        played = installed.run("otree", "test", config, cwd=project)
        assert played.returncode == 0, played.stdout + played.stderr
        assert f"{config}: OK" in played.stdout, played.stdout
    # The bots' sessions went to a scratch database, not to the project's.
    assert not _development_database(project).exists()


@pytest.fixture
def devserver(installed: InstalledGrove, project: Path) -> Iterator[str]:
    """``otree devserver PORT`` started in the project's folder; yields its base URL."""
    port = free_port()
    log = project.parent / "devserver.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [installed.command("otree"), "devserver", str(port)],
            cwd=project,
            env=installed.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base_url}/demo", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_browsers_complete_every_config_on_otree_devserver(devserver: str, project: Path) -> None:
    with httpx.Client(base_url=devserver, timeout=30) as client:
        demo = client.get("/demo").text
        assert "<h1>Testlabor</h1>" in demo
        _, (alone,) = play_session(client, "intro_only")  # type: ignore[arg-type]
        assert alone.pages == ["Welcome", "Rating"]
        assert "Auszahlung: 5,00" in alone.html
        _, pair = play_session(client, "bargain")  # type: ignore[arg-type]
        assert sorted(b.pages.count("Propose") for b in pair) == [1, 2]
        assert client.get("/static/intro/logo.svg").status_code == 200
        assert client.get("/static/global/lab.css").status_code == 200
    # The development server keeps its data in the project's folder, as oTree's does.
    assert _development_database(project).exists()
