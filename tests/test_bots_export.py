"""``otree test CONFIG --export DIR`` writes what oTree 6.0.15's does: ``<app>.csv`` for each
app played, ``<app>_custom.csv`` for an app with ``custom_export``, and ``all_apps_wide.csv``,
each in the admin export's columns (booleans 1/0), every case's session in one file."""

from __future__ import annotations

import csv
from pathlib import Path

from server.bots.runner import run_bots
from server.config import load_settings
from tests import databases
from tests.conftest import REPO_ROOT
from tests.test_export import OTREE_TRUST_TABLE, OTREE_WIDE_HEAD


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_bots_export_writes_otrees_files(tmp_path):
    settings = load_settings(REPO_ROOT, {})
    folder = tmp_path / "out"
    database_url = databases.database_url(tmp_path, "bots")
    for config in ("trust", "survey"):  # survey's bots have two cases: two sessions
        results = run_bots(settings, config, export_dir=folder, database_url=database_url)
        assert all(result.ok for result in results), [result.error for result in results]
    names = sorted(path.name for path in folder.iterdir())
    assert names == [
        "all_apps_wide.csv",
        "payment_info.csv",
        "survey.csv",
        "trust.csv",
        "trust_custom.csv",
    ]
    trust = _rows(folder / "trust.csv")
    assert list(trust[0]) == OTREE_TRUST_TABLE
    assert sorted(float(r["player.payoff"]) for r in trust) == [70.0, 110.0]
    assert [r["role"] for r in _rows(folder / "trust_custom.csv")] == ["Trustor", "Trustee"]
    survey = _rows(folder / "survey.csv")
    assert len({r["session.code"] for r in survey}) == 2
    wide = _rows(folder / "all_apps_wide.csv")
    assert list(wide[0])[: len(OTREE_WIDE_HEAD) - 4] == OTREE_WIDE_HEAD[:-4]
    assert len(wide) == 2 + len(survey)
    assert {r["participant._is_bot"] for r in wide} == {"1"}
