"""The suite's own rule: every database URL a test uses comes from tests/databases.py, so the
PostgreSQL pass (GROVE_TEST_DATABASE=postgresql) really runs every test on PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import databases

TESTS = Path(__file__).resolve().parent
# A database URL written out: sqlite:///..., postgresql://..., or a .sqlite3 file name.
WRITTEN_URL = re.compile(r"sqlite:///|postgres(ql)?(\+\w+)?://|\.sqlite3\b")
ALLOWED = {"databases.py", "postgres.py", "test_suite_databases.py"}


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(TESTS.rglob("*.py")) if p.name not in ALLOWED],
    ids=lambda p: p.relative_to(TESTS).as_posix(),
)
def test_no_test_writes_a_database_url_itself(path):
    found = [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if WRITTEN_URL.search(line)
    ]
    assert not found, f"use tests.databases.database_url(tmp_path, name) instead: {found}"


def test_the_selected_database_is_checked(monkeypatch, tmp_path):
    monkeypatch.setenv(databases.VARIABLE, "sqlite")
    assert databases.database_url(tmp_path, "x") == f"sqlite:///{tmp_path / 'x'}.sqlite3"
    monkeypatch.setenv(databases.VARIABLE, "mysql")
    with pytest.raises(ValueError, match="GROVE_TEST_DATABASE must be 'sqlite' or 'postgresql'"):
        databases.selected()
