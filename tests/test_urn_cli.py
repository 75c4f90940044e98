"""``python -m server urn verify|export|import|simulate``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from server.app import create_app
from server.models.audit_log import AuditEntry
from server.models.urn import UrnAssignment
from server.project import load_project
from server.randomization.service import get_study, randomize
from server.sessions import create_session
from tests.conftest import REPO_ROOT


def _run(settings, *args):
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "server", "urn", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def _study_with_history(settings, n=6):
    app = create_app(settings)
    with app.state.grove.db.transaction() as db:
        session = create_session(db, load_project(settings), "randomized_trial", 2)
        code = session.code
        for i in range(n):
            levels = {"age_group": "18-40", "sex": ["Male", "Female"][i % 2]}
            randomize(db, code, f"p{i}", levels, user="cli")
    return app, code


def _log(app) -> list[tuple[str, str, str | None, dict]]:
    with app.state.grove.db.read() as db:
        rows = db.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        return [(r.who, r.action, r.study_name, r.details) for r in rows]


@pytest.mark.slow  # a subprocess per case, or many draws: seconds each
def test_verify_export_import(settings, tmp_path):
    app, code = _study_with_history(settings)
    ok = _run(settings, "verify", code)
    assert ok.returncode == 0
    assert "replays exactly" in ok.stdout
    exported = json.loads(_run(settings, "export", code, "--format", "json").stdout)
    assert isinstance(exported["config"]["starting_seed"], int)  # the admin export keeps it
    assert len(exported["assignments"]) == 6
    assert all("rng_state_before" in row for row in exported["assignments"])
    csv_text = _run(settings, "export", code).stdout
    assert csv_text.splitlines()[0].startswith("sequence,id,f_age_group,f_sex,trt")

    history = tmp_path / "history.csv"
    history.write_text(
        "id,age_group,sex,trt,datetime,user\n"
        "X1,65+,Male,Control,2025-01-01 10:00:00,bob\n"
        "X2,41-65,Female,Intervention,2025-01-01 11:00:00,bob\n"
    )
    imported = _run(settings, "import", code, str(history))
    assert imported.returncode == 0, imported.stderr
    assert _log(app) == [("cli", "study.import", code, {"assignments": 2})]
    with app.state.grove.db.read() as db:
        study = get_study(db, code)
        assert study.num_assigned == 8
        assert study.counts["age_group"]["65+"] == [1, 0]
    assert _run(settings, "verify", code).returncode == 0

    bad = tmp_path / "bad.csv"
    bad.write_text("id,age_group,sex,trt\nX9,200+,Male,Control\n")
    refused = _run(settings, "import", code, str(bad))
    assert refused.returncode == 1
    assert "invalid level" in refused.stderr
    assert len(_log(app)) == 1  # the refused import is not logged
    with app.state.grove.db.transaction() as db:
        db.scalars(
            sa.select(UrnAssignment).where(UrnAssignment.sequence == 2)
        ).one().treatment = "Tampered"
    diverged = _run(settings, "verify", code)
    assert diverged.returncode == 1
    assert "#2" in diverged.stdout
    app.state.grove.db.dispose()


@pytest.mark.slow  # a subprocess per case, or many draws: seconds each
def test_simulate_prints_imbalance_per_level(settings):
    result = _run(settings, "simulate", "randomized_trial", "--participants", "60", "--runs", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + 5
    assert lines[1].split()[:2] == ["age_group", "18-40"]
