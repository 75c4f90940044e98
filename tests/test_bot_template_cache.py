"""A bot run keeps the project's compiled templates in ``__pycache__/grove_templates/``
(issue 20, the bots' start-up): the next run loads them instead of compiling them again, a
changed template is compiled afresh, and a cache that cannot be used is no cache, never an
error."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from jinja2.bccache import bc_magic

from server.bots.runner import BotRunResult, run_bots
from server.config import load_settings
from server.templating import BYTECODE_CACHE_FOLDER
from tests import databases
from tests.conftest import REPO_ROOT

BOTFAIL = Path(__file__).resolve().parent / "projects" / "botfail"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _run(root: Path, tmp_path: Path, name: str) -> BotRunResult:
    [result] = run_bots(
        load_settings(root, {}), "passes", database_url=databases.database_url(tmp_path, name)
    )
    return result


def test_a_changed_template_is_compiled_again_not_read_from_the_cache(tmp_path):
    root = _project(tmp_path)
    question = root / "apps" / "quiz" / "Question.html"
    assert _run(root, tmp_path, "first").ok
    cached = sorted((root / BYTECODE_CACHE_FOLDER).iterdir())
    assert len(cached) >= 2  # the quiz's two pages and the layout they extend
    assert _run(root, tmp_path, "cached").ok

    # Without its form fields the page cannot take the bot's answer: the run must fail.
    question.write_text("{{ block content }}{{ next_button }}{{ endblock }}")
    failed = _run(root, tmp_path, "changed")
    assert not failed.ok
    assert "answer" in (failed.error or "")
    question.write_text("{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}")
    assert _run(root, tmp_path, "restored").ok


def test_a_damaged_cache_file_is_compiled_again(tmp_path):
    root = _project(tmp_path)
    assert _run(root, tmp_path, "first").ok
    # A file is Jinja2's header, the pickled SHA-1 of the source, then the marshalled code:
    # cut short in the SHA-1 (Jinja2 itself copes with damaged code, not with this).
    for path in (root / BYTECODE_CACHE_FOLDER).iterdir():
        path.write_bytes(path.read_bytes()[: len(bc_magic) + 10])
    result = _run(root, tmp_path, "damaged")
    assert result.ok, result.error


def test_a_project_where_the_cache_cannot_be_made_runs_without_it(tmp_path):
    root = _project(tmp_path)
    (root / "__pycache__").write_text("a file where the cache folder would go")
    result = _run(root, tmp_path, "no_cache")
    assert result.ok, result.error


# A bot that reads on its page an amount and a number the template writes as literals, as
# oTree prints them under the run's settings (oTree renders every page afresh).
_READS_THE_AMOUNTS = """from server.api import Bot, cu, expect

from . import Question, Thanks


class PlayerBot(Bot):
    def play_round(self):
        yield Question, dict(answer=2)
        expect(f'<p id="amount">{cu(10)}</p>', "in", self.html)
        expect('<p id="half">HALF</p>', "in", self.html)
        yield Thanks
"""


def _server_test(root: Path, config: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", "test", config, "1"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "GROVE_PROJECT_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_template_cached_under_other_currency_settings_prints_the_current_ones(tmp_path):
    # Jinja2 computes an expression of literals when it compiles ({{ 0.5|to2 }} is text in
    # the compiled code), so that text depends on the language and the currency settings
    # too, not only on the source whose SHA-1 the cache checks.
    root = _project(tmp_path)
    bot = root / "apps" / "quiz" / "tests.py"
    (root / "apps" / "quiz" / "Thanks.html").write_text(
        '{{ block content }}<p id="amount">{{ 10|c }}</p><p id="half">{{ 0.5|to2 }}</p>'
        "{{ next_button }}{{ endblock }}"
    )
    bot.write_text(_READS_THE_AMOUNTS.replace("HALF", "0.50"))
    english = _server_test(root, "passes")
    assert english.returncode == 0, english.stdout + english.stderr
    with (root / "settings.py").open("a") as settings:
        settings.write("USE_POINTS = False\nREAL_WORLD_CURRENCY_CODE = 'EUR'\n")
        settings.write("LANGUAGE_CODE = 'de'\n")
    bot.write_text(_READS_THE_AMOUNTS.replace("HALF", "0,50"))  # oTree 6.0.15's German
    # The bot file changed within the same second and kept its size: Python's bytecode
    # cache (checked by mtime and size) would run the first version.
    shutil.rmtree(bot.parent / "__pycache__", ignore_errors=True)
    german = _server_test(root, "passes")
    assert german.returncode == 0, german.stdout + german.stderr
