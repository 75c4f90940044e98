"""A project loaded for some session configs (``Settings.config_names``; ``python -m server
test CONFIG``) imports and maps only their apps, and still checks every config; the app the
bots play on does not check its template files at each render (issue 20)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.__main__ import main
from server.bots.runner import bot_app
from server.config import load_settings
from server.errors import ConfigurationError
from server.project import load_project

BOTFAIL = Path(__file__).resolve().parent / "projects" / "botfail"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the botfail project: app ``quiz`` (configs ``passes``...) and ``rounds``."""
    copy = tmp_path / "project"
    shutil.copytree(BOTFAIL, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_project_for_one_config_holds_only_its_apps_tables_and_config(root):
    project = load_project(load_settings(root, {}).with_changes(config_names=("rounds_pass",)))
    assert list(project.apps) == ["rounds"]
    assert list(project.session_configs) == ["rounds_pass"]
    assert not [name for name in project.metadata.tables if name.startswith("quiz_")]
    assert "rounds_player" in project.metadata.tables
    full = load_project(load_settings(root, {}))
    assert sorted(full.apps) == ["quiz", "rounds"]
    assert "quiz_player" in full.metadata.tables
    assert "passes" in full.session_configs


def test_a_project_loaded_for_every_config_serves_one_config(root):
    full = load_project(load_settings(root, {}))
    one = load_project(load_settings(root, {}).with_changes(config_names=("passes",)))
    assert one.apps is full.apps
    assert one.settings.config_names == ("passes",)


def test_every_config_is_still_checked(root):
    configs = root / "session_configs.py"
    configs.write_text(
        configs.read_text() + "SESSION_CONFIGS.append(dict(name='lost', app_sequence=['nowhere'], "
        "num_demo_participants=1))\n"
    )
    settings = load_settings(root, {}).with_changes(config_names=("rounds_pass",))
    with pytest.raises(ConfigurationError, match="app 'nowhere' not found"):
        load_project(settings)


def test_the_command_for_one_config_imports_no_other_app(monkeypatch, capsys, root):
    # Another config's app that cannot be imported does not stop this config's bots; the run
    # of every config still meets it.
    quiz = root / "apps" / "quiz" / "__init__.py"
    quiz.write_text("raise RuntimeError('quiz is not imported for rounds_pass')\n")
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))
    assert main(["test", "rounds_pass"]) == 0
    out, _err = capsys.readouterr()
    assert "rounds_pass, case 1 of 2 ('low'): OK (2 participants, 8 pages" in out.replace(
        "\r", "\n"
    )
    assert main(["test"]) == 1
    _out, err = capsys.readouterr()
    assert "quiz is not imported for rounds_pass" in err


def test_the_bots_app_does_not_check_template_files_at_each_render(root):
    # A development server re-reads a changed template (a stat per render); a bot run's
    # templates do not change while it plays.
    settings = load_settings(root, {})
    assert not settings.production
    with bot_app(settings) as app:
        assert app.state.grove.templates.auto_reload is False
