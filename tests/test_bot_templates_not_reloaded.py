"""The app the bots play on does not check its template files at each render (issue 20):
a development server re-reads a changed template (a stat per render); a bot run's
templates do not change while it plays."""

from __future__ import annotations

import shutil
from pathlib import Path

from server.bots.runner import bot_app
from server.config import load_settings

BOTFAIL = Path(__file__).resolve().parent / "projects" / "botfail"


def test_the_bots_app_does_not_check_template_files_at_each_render(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root, ignore=shutil.ignore_patterns("__pycache__"))
    settings = load_settings(root, {})
    assert not settings.production
    with bot_app(settings) as app:
        assert app.state.grove.templates.auto_reload is False
