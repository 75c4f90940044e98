"""Bots test what they claim (issue 14, items 10 and 12), with oTree 6.0.15's behaviour as the
expected value (measured with ``otree test`` on the same bots):

- every ``play_round`` runs to its end, so a false ``expect`` or ``assert`` after a round's last
  ``yield`` fails the run (oTree: ``ExpectError``, exit 1);
- a bot whose ``play_round`` returns early is done there: oTree passes when nobody waits for it,
  reports "Bots got stuck" when others do, and a discrepancy when the next round's bot meets a
  page it did not expect;
- ``otree test`` names each case ("test case 0"), and its export holds every case's sessions;
- oTree answers a participant count that is not a multiple of the group size and a bot file
  that fails to import with a raw traceback: Grove with one line naming the rule or the file.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from server.__main__ import main
from server.bots import runner
from server.bots.runner import BotFileError, run_bots
from server.config import load_settings

# slow: whole bot runs, through the command line.
pytestmark = pytest.mark.slow

BOTFAIL = Path(__file__).resolve().parent / "projects" / "botfail"


def _run(config):
    return run_bots(load_settings(BOTFAIL, {}), config)


def test_a_false_expect_after_the_last_yield_fails_the_bot():
    results = _run("after_last")
    assert [r.case_label for r in results] == ["case 1 of 2 ('low')", "case 2 of 2 ('high')"]
    for result in results:
        assert not result.ok
        assert "expect failed: 1 == 2" in result.error
        assert "in the bot of rounds round 1, after the bot submitted Results" in result.error
        assert result.failed_where == "on page Question (rounds round 2)"


def test_a_false_expect_after_the_last_round_fails_at_the_end_of_the_session():
    for result in _run("after_last_final"):
        assert not result.ok
        assert "expect failed: 2 == 99" in result.error or "expect failed: 1 == 99" in result.error
        assert result.failed_where == "at the end of the session"


def test_a_plain_assert_after_the_last_yield_fails_the_bot():
    # oTree's own advanced bots example ends with `assert self.player.payoff == ...`.
    [first, _second] = _run("assert_after_last")
    assert not first.ok
    assert "AssertionError" in first.error
    assert "in the bot of rounds round 1, after the bot submitted Results" in first.error


def test_a_play_round_that_returns_early_ends_that_bot():
    for result in _run("early_last"):
        assert result.ok, result.error
        assert len(result.stopped_early) == 2
        assert "on page Results (rounds round 2)" in result.stopped_early[0]


def test_the_next_rounds_bot_meeting_a_page_left_out_fails():
    result = _run("early_middle")[0]
    assert not result.ok
    assert "the bot submitted Question but the participant is on page Results (rounds round 1)" in (
        result.error
    )


def test_a_bot_for_another_round_cannot_submit_a_same_named_page():
    # Stricter than oTree, which compares page names only (README: deliberate differences).
    result = _run("skips_round_one")[0]
    assert not result.ok
    assert (
        "the bot of rounds round 2 submitted Question, but the participant is on Question "
        "of rounds round 1" in result.error
    )


def test_others_waiting_for_a_bot_that_stopped_are_stuck(monkeypatch):
    monkeypatch.setattr(runner, "MAX_IDLE_ROUNDS", 20)  # idle polls before "stuck": be quick
    result = _run("one_quits")[0]
    assert not result.ok
    assert "the bots are stuck" in result.error
    assert "these bots stopped early: participant" in result.error
    assert "on page Question (rounds round 1)" in result.error


def _cli(monkeypatch, capsys, root, *args):
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))
    status = main(["test", *args])
    out, err = capsys.readouterr()
    return status, out.replace("\r", "\n"), err


def test_the_command_names_each_case_and_exports_every_case(monkeypatch, capsys, tmp_path):
    status, out, _err = _cli(monkeypatch, capsys, BOTFAIL, "rounds_pass", "--export", str(tmp_path))
    assert status == 0
    assert "[#" not in out  # no progress bar (redrawn with \r) when the output is no terminal
    assert "rounds_pass, case 1 of 2 ('low'): OK (2 participants, 8 pages" in out
    assert "rounds_pass, case 2 of 2 ('high'): OK (2 participants, 8 pages" in out
    # oTree's file name for the app's table: <app>.csv (otree test --export).
    with (tmp_path / "rounds.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    # 2 cases x 2 participants x 2 rounds, each case its own session (oTree's export: 8 rows).
    assert len(rows) == 8
    sessions = {r["session.code"] for r in rows}
    assert len(sessions) == 2
    answers = {
        code: {r["player.answer"] for r in rows if r["session.code"] == code} for code in sessions
    }
    assert sorted(answers.values(), key=sorted) == [{"1"}, {"2"}]


def test_the_command_fails_a_bot_whose_last_expect_is_false(monkeypatch, capsys):
    status, out, err = _cli(monkeypatch, capsys, BOTFAIL, "after_last")
    assert status == 1
    assert "after_last, case 1 of 2 ('low'): FAILED on page Question (rounds round 2)" in out
    assert "expect failed: 1 == 2" in err


def test_a_participant_count_off_the_group_size_is_one_line(monkeypatch, capsys):
    status, out, err = _cli(monkeypatch, capsys, BOTFAIL, "rounds_pass", "3")
    assert status == 1
    assert err.strip() == (
        "error: num_participants must be a multiple of 2 (the group size of session config "
        "'rounds_pass'), not 3"
    )
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("broken_line", "message"),
    [
        (
            "from server.api import currency_rang\n",
            "error: apps/rounds/tests.py, line 1: ImportError: cannot import name 'currency_rang'",
        ),
        ("def broken(:\n", "error: apps/rounds/tests.py, line 1: SyntaxError: invalid syntax"),
        ("1 / 0\n", "error: apps/rounds/tests.py, line 1: ZeroDivisionError: division by zero"),
    ],
)
def test_a_bot_file_that_fails_to_import_is_one_line(
    monkeypatch, capsys, tmp_path, broken_line, message
):
    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root, ignore=shutil.ignore_patterns("__pycache__"))
    tests_py = root / "apps" / "rounds" / "tests.py"
    tests_py.write_text(broken_line + tests_py.read_text())
    status, out, err = _cli(monkeypatch, capsys, root, "rounds_pass")
    assert status == 1, out + err
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err
    with pytest.raises(BotFileError, match=r"apps/rounds/tests\.py, line 1"):
        run_bots(load_settings(root, {}), "rounds_pass")
