"""`python -m server test CONFIG` plays a config whose apps reach into another config's app at run
time, as on the development server: a hook importing that app, a template including one of
its templates (a reviewer's cases against 8870c5d, reverted)."""

from __future__ import annotations

from server.__main__ import main


def test_one_config_whose_app_imports_another_app(capsys, botfail_copy):
    root = botfail_copy
    rounds = root / "apps" / "rounds" / "__init__.py"
    rounds.write_text(
        rounds.read_text().replace(
            "from server.api import *\n", "from server.api import *\nimport quiz\n"
        )
    )
    code = main(["test", "rounds_pass"])
    _out, err = capsys.readouterr()
    assert code == 0, err[-2000:]


def test_one_config_whose_app_imports_another_app_in_a_hook(capsys, botfail_copy):
    root = botfail_copy
    # oTree: an app may import another app's constants where it uses them.
    rounds = root / "apps" / "rounds" / "__init__.py"
    rounds.write_text(
        rounds.read_text().replace(
            "class Question(Page):\n",
            "class Question(Page):\n"
            "    @staticmethod\n"
            "    def vars_for_template(player):\n"
            "        from quiz import C as QuizC\n"
            "        return dict(quiz_rounds=QuizC.NUM_ROUNDS)\n\n",
        )
    )
    code = main(["test", "rounds_pass"])
    _out, err = capsys.readouterr()
    assert code == 0, err[-2000:]


def test_one_config_whose_template_includes_another_apps_template(capsys, botfail_copy):
    root = botfail_copy
    # oTree's older layout: apps/quiz/templates/quiz/Shared.html, included by rounds.
    shared = root / "apps" / "quiz" / "templates" / "quiz"
    shared.mkdir(parents=True)
    (shared / "Shared.html").write_text("<p>Shared instructions</p>")
    (root / "apps" / "rounds" / "Question.html").write_text(
        '{{ block content }}{{ include "quiz/Shared.html" }}{{ formfields }}{{ next_button }}'
        "{{ endblock }}"
    )
    code = main(["test", "rounds_pass"])
    _out, err = capsys.readouterr()
    assert code == 0, err[-1500:]
