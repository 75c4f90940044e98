"""A command run as its own process leaves its imports out of later garbage collections
(issue 20: the bot command's start-up), and the collector is on when the command runs; a
``main(argv)`` called from inside another program (these tests) changes neither."""

from __future__ import annotations

import gc
import subprocess
import sys

from server.__main__ import main
from tests.conftest import REPO_ROOT

PROBE = """
import gc, sys
from server.__main__ import main
from server.cli import bot_commands

seen = {}
def run_configs(*args, **kwargs):
    seen["enabled"] = gc.isenabled()
    seen["frozen"] = gc.get_freeze_count()
    return []

bot_commands.run_configs = run_configs
sys.argv = ["grove", "test", "survey"]
main()
print(seen["enabled"], seen["frozen"] > 10000, gc.isenabled())
"""


def test_a_command_in_its_own_process_runs_with_its_imports_frozen():
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]


def test_main_called_with_arguments_leaves_the_collector_as_it_was(capsys):
    frozen = gc.get_freeze_count()
    assert main([]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    assert "COMMAND" in capsys.readouterr().out
