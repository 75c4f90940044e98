"""``python -m server test`` imports what a bot run uses and nothing more (issue 20: the bots'
start-up, most of it imports). The bots reach the app as ASGI calls without a client
library, so the command imports no HTTP client."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT


def _imported_by_bot_run() -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTREE_", "GROVE_"))}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "server", "test", "survey", "1"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK (") == 2, done.stdout  # the two cases of its bots
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_a_bot_run_imports_no_http_client():
    imported = _imported_by_bot_run()
    assert "starlette" in imported  # the log is read as it should be
    assert not {"httpx", "httpx2", "http.cookiejar"} & imported
