"""The issue's must-show: a 4-player multiplayer session driven from start to end with only the
admin API and its command-line client (``python -m server api``), on a prodserver with two
workers, on SQLite and on PostgreSQL.

The sample prisoner's dilemma: pairs, 3 rounds of Decision, ResultsWaitPage (whose
after_all_players_arrive sets the payoffs), Results; then payment_info's PaymentInfo page.
Nobody opens a page: the session is created with the CLI, everyone is advanced page by page
(each page submitted as its timeout would, each wait page as an arrival), and the data export
is downloaded with the CLI. Expected values come from oTree's documented rules, not from
Grove's output: a page submitted by its timeout stores False in a BooleanField (so everybody
defects: 100 points each round, C.BOTH_DEFECT), and after_all_players_arrive runs once per
pair and round, before anyone of the pair reaches Results."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import databases
from tests.databases import BOTH
from tests.live_server import REPO_ROOT, live_server

KEY = "drive-the-session-key-0123456789-abcdef"
PRISONER_PAGES = ("Decision", "ResultsWaitPage", "Results")
# Every page each participant completes, in order (the page-times export's rows: first, as in
# oTree, the participant's start).
EVERY_PAGE = [
    (1, "InitializeParticipant"),
    *[(round_number, page) for round_number in (1, 2, 3) for page in PRISONER_PAGES],
    (1, "PaymentInfo"),
]


def _cli(base: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m server api`` with the key in $GROVE_API_KEY, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "server", "api", "-u", base, *arguments],
        cwd=REPO_ROOT,
        env={**os.environ, "GROVE_API_KEY": KEY},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _cli_json(base: str, *arguments: str) -> Any:
    done = _cli(base, *arguments)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _detail(api: httpx.Client, sname: str) -> dict[str, Any]:
    answer = api.get(f"/admin/api/v1/session/{sname}/")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _in_order(path: list[str]) -> bool:
    """Each advance leaves a participant where they were (the first of a pair at the wait
    page) or moves them forward (the last of a pair passes the wait page in the same step)."""
    order = ["", *[p for _round in range(3) for p in PRISONER_PAGES], "PaymentInfo", "finished"]
    position = 0
    for page in path:
        later = order.index(page, position) if page in order[position:] else -1
        if later < 0:
            return False
        position = later
    return path[-1] == "finished"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_a_four_player_session_from_start_to_end_with_the_admin_api_and_its_cli(
    tmp_path: Path, backend: str
) -> None:
    database_url = databases.database_url(tmp_path, "drive", backend)
    log_path = tmp_path / "server.log"
    env = {"OTREE_REST_KEY": KEY}
    with (
        live_server(database_url, workers=2, extra_env=env, log_path=log_path) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as api,
    ):
        created = _cli_json(
            base, "-X", "POST", "sessions", "-d", '{"config": "prisoner", "n_players": 4}'
        )
        assert created["created"] is True
        sname = created["sname"]
        detail = _detail(api, sname)
        codes = [p["code"] for p in detail["participants"]]
        assert len(codes) == 4
        paths: dict[str, list[str]] = {code: [""] for code in codes}

        # The first step through the CLI, the others over HTTP (each CLI run starts Python).
        first = _cli_json(
            base,
            "-X",
            "POST",
            f"session/{sname}/players/advance",
            "-d",
            json.dumps({"unames": codes}),
        )
        steps = [first]
        for _step in range(30):
            pending = [p["code"] for p in _detail(api, sname)["participants"] if not p["finished"]]
            if not pending:
                break
            answer = api.post(
                f"/admin/api/v1/session/{sname}/players/advance/", json={"unames": pending}
            )
            assert answer.status_code == 200, answer.text
            steps.append(answer.json())
        for step in steps:
            assert step["skipped"] == []
            for code, page in step["positions"].items():
                paths[code].append(page)
        final = _detail(api, sname)
        assert all(p["finished"] for p in final["participants"]), final["participants"]
        assert all(_in_order(path) for path in paths.values()), paths

        export = tmp_path / "session.csv"
        done = _cli(base, f"session/{sname}/data/csv", "-o", str(export))
        assert done.returncode == 0, done.stderr
        as_json = _cli_json(base, f"session/{sname}/data")
        times = api.get(f"/admin/api/v1/session/{sname}/page-times/")
        assert times.status_code == 200, times.text
    assert "Traceback" not in log_path.read_text(errors="replace")

    # Each participant completed every page, the wait pages included, in order.
    completed: dict[str, list[tuple[int, str]]] = {code: [] for code in codes}
    for row in csv.DictReader(io.StringIO(times.content.decode("utf-8-sig"))):
        completed[row["participant_code"]].append((int(row["round_number"]), row["page_name"]))
    assert completed == dict.fromkeys(codes, EVERY_PAGE)

    rows = list(csv.DictReader(io.StringIO(export.read_text(encoding="utf-8-sig"))))
    assert sorted(row["participant.code"] for row in rows) == sorted(codes)
    for row in rows:
        for round_number in (1, 2, 3):
            prefix = f"prisoner.{round_number}.player"
            assert row[f"{prefix}.cooperate"] == "0"  # a timeout's BooleanField: False
            assert float(row[f"{prefix}.payoff"]) == 100  # both defect: C.BOTH_DEFECT
        assert float(row["participant.payoff"]) == 300
        # Finished: the last page of the sequence, where oTree 6.0.15 leaves a participant.
        assert row["participant._current_app_name"] == "payment_info"
        assert row["participant._current_page_name"] == "PaymentInfo"
        assert row["participant.is_dropout"] == "0"
    by_code = {row["participant.code"]: row for row in as_json["rows"]}
    assert sorted(by_code) == sorted(codes)
    for row in by_code.values():
        assert [row[f"prisoner.{n}.player.payoff"] for n in (1, 2, 3)] == [100, 100, 100]
        assert row["participant.is_dropout"] is False
