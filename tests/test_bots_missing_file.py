"""``otree test`` on a project whose app has no ``tests.py`` (oTree's ``startproject`` leaves
the sample games' bots out, so a new project's first ``otree test`` meets this): one message
naming the missing file, as for a bot file that fails to import, not a traceback through
Grove's runner. oTree 6.0.15 fails too, with ``ModuleNotFoundError: No module named
'survey.tests'`` and its traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

from server.__main__ import main

BOTFAIL = Path(__file__).resolve().parent / "projects" / "botfail"


def test_an_app_without_tests_py_fails_with_one_message_naming_the_file(
    monkeypatch, capsys, tmp_path
):
    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "apps" / "quiz" / "tests.py").unlink()
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))

    status = main(["test", "passes"])
    out, err = capsys.readouterr()

    assert status == 1
    assert "passes: FAILED on page Question (quiz round 1)" in out
    assert "Traceback" not in out + err
    assert err.strip() == (
        "Bot failure in passes on page Question (quiz round 1):\n"
        "apps/quiz/tests.py does not exist: `otree test` needs a PlayerBot for every app "
        "of the session config that shows a page"
    )
