"""Bots: every sample config's bots pass; failures are reported with the page; export;
and mock_exogenous_data runs only for demo and bot sessions."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import run_bots
from server.config import load_settings
from server.errors import ConfigurationError
from server.project import load_project
from tests import databases
from tests.admin_pages import submit_form
from tests.conftest import REPO_ROOT, create_demo_session

BOTFAIL = Path(__file__).resolve().parent / "projects" / "botfail"
SAMPLE_CONFIGS = list(load_project(load_settings(REPO_ROOT, {})).session_configs)


def _server_test(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "GROVE_PROJECT_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "server", "test", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow  # seconds each
@pytest.mark.parametrize("config", SAMPLE_CONFIGS)
def test_every_sample_config_passes_its_bots(config, tmp_path):
    """In process, on the run's database (`python -m server test`, below, plays on SQLite)."""
    database_url = databases.database_url(tmp_path, "bots")
    results = run_bots(load_settings(REPO_ROOT, {}), config, database_url=database_url)
    assert results
    for result in results:
        assert result.ok, result.error


@pytest.mark.slow  # a subprocess per case, or many draws: seconds each
def test_server_test_runs_every_config_and_exports(tmp_path):
    result = _server_test(REPO_ROOT, "--export", str(tmp_path))
    assert result.returncode == 0, result.stderr
    summaries = [line for line in result.stdout.splitlines() if ": " in line]
    for config in SAMPLE_CONFIGS:
        # "trust: OK (...)", or one line per case: "survey, case 1 of 2 ('enjoys'): OK (...)"
        runs = [line for line in summaries if line.startswith((f"{config}: ", f"{config}, case "))]
        assert runs, result.stdout
        assert all(": OK (" in line for line in runs), runs
    with (tmp_path / "trust.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(float(r["player.payoff"]) for r in rows) == [70.0, 110.0]
    assert {r["group.sent_amount"] for r in rows} == {"40.0"}


@pytest.mark.parametrize(
    ("config", "page", "message"),
    [
        ("fails_expect", "Thanks", "expect failed: 2 == 3"),
        ("valid_must_fail", "Question", "SubmissionMustFail, but the page accepted"),
        ("missing_field", "Question", "the form has no control named 'colour'"),
        (
            "wrong_page",
            "Question",
            "the bot submitted Thanks but the participant is on page Question",
        ),
    ],
)
@pytest.mark.slow  # a subprocess per case, or many draws: seconds each
def test_failing_bot_reported_with_page(config, page, message):
    result = _server_test(BOTFAIL, config)
    assert result.returncode == 1
    assert f"{config}: FAILED on page {page}" in result.stdout
    assert message in result.stderr
    assert "Traceback" in result.stderr


def test_passing_project_passes_and_must_fail_is_checked(tmp_path):
    settings = load_settings(BOTFAIL, {})
    [outcome] = run_bots(settings, "passes", database_url=databases.database_url(tmp_path, "bots"))
    assert outcome.ok, outcome.error
    assert any("rejected as expected" in line for line in outcome.log)


def test_mock_exogenous_data_for_demo_and_bots_only(settings):
    app = create_app(settings)
    with TestClient(app) as client:
        demo_code, _links = create_demo_session(client, "randomized_trial")
        rest_code = client.post(
            "/api/sessions/",
            json={"session_config_name": "randomized_trial", "num_participants": 2},
        ).json()["code"]
        room_code = client.post(
            "/api/sessions/",
            json={
                "session_config_name": "randomized_trial",
                "num_participants": 2,
                "room_name": "live_demo",
            },
        ).json()["code"]
        submit_form(
            client,
            "/rooms",
            "/rooms/my_room",
            {"config": "randomized_trial", "num_participants": "2"},
        )
        sessions = {s["room_name"]: s["code"] for s in client.get("/api/sessions/").json()}
        admin_code = sessions["my_room"]

        def mocked(code):
            participants = client.get(f"/api/sessions/{code}").json()["participants"]
            return ["age_group" in p["vars"] for p in participants]

        assert all(mocked(demo_code))
        assert not any(mocked(rest_code))
        assert not any(mocked(room_code))
        assert not any(mocked(admin_code))
    app.state.grove.db.dispose()


def test_missing_mock_function_is_a_start_up_error(tmp_path):
    import shutil

    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root)
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [dict(name='mocky', app_sequence=['quiz'], num_demo_participants=1,"
        " mock_exogenous_data=True)]\n"
    )
    with pytest.raises(ConfigurationError, match=r"'mocky'.*mock_exogenous_data"):
        load_project(load_settings(root, {}))
