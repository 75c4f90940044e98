"""The benchmark's own parts: the oTree twin of the project, wrk driving exactly the requests
asked for, and the report built from results. Nothing here times Grove."""

from __future__ import annotations

import importlib.util
import os

import pytest

from bench.projects import build_grove_project, build_otree_project
from bench.report import build_rows, check_targets, format_table
from bench.servers import compile_bytecode, floor_server
from bench.wrk import run_wrk, wrk_available
from tests import databases
from tests.conftest import REPO_ROOT


def test_otree_twin_has_the_same_apps_with_otree_imports(tmp_path):
    grove = build_grove_project(tmp_path / "grove")
    otree = build_otree_project(tmp_path / "otree")
    grove_apps = {p.name for p in (grove / "apps").iterdir()}
    otree_apps = {p.name for p in otree.iterdir() if (p / "__init__.py").exists()}
    assert {"bench_form", "bench_wait", "trust", "survey"} <= grove_apps
    assert otree_apps == grove_apps - {"trial"}
    for module in otree.glob("*/*.py"):
        assert "from server.api import" not in module.read_text(), module
    assert "from otree.api import" in (otree / "bench_form" / "__init__.py").read_text()
    assert "randomized_trial" in (otree / "session_configs.py").read_text()
    assert "SESSION_CONFIGS" in (otree / "settings.py").read_text()


@pytest.fixture
def floor_url():
    if not wrk_available():
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed (./scripts/install.sh --system installs it)")
        pytest.skip("wrk is not installed")
    with floor_server(workers=1) as server:
        yield server.base_url


@pytest.mark.slow
def test_wrk_once_sends_each_path_exactly_once(floor_url):
    paths = [f"/?n={i}" for i in range(40)]
    result = run_wrk(floor_url, paths, connections=2, seconds=1, once=True)
    # At most once each: wrk may skip a path when a thread stops, never repeat one.
    assert 36 <= result.requests <= 40
    assert result.statuses == {"200": result.requests}
    assert result.errors == 0


@pytest.mark.slow
def test_wrk_posts_one_body_per_path(floor_url):
    bodies = [f'{{"k{i}": {i}}}' for i in range(10)]
    result = run_wrk(
        floor_url,
        ["/"] * 10,
        connections=1,
        seconds=1,
        method="POST",
        bodies=bodies,
        headers={"Content-Type": "application/json"},
        once=True,
    )
    assert 8 <= result.statuses["200"] <= 10
    assert result.p50_ms > 0


def test_report_rows_and_targets_from_results():
    record = {"rate": 1000.0, "p50_ms": 1.0, "p99_ms": 2.0}
    slow = {"rate": 50.0, "p50_ms": 20.0, "p99_ms": 90.0}
    results = {
        "floor": {"get_c1": record, "post_c10": {**record, "rate": 4000.0}},
        "grove": {
            "form_page": {"get_c1": record},
            "participant_vars": {"by_code_c10": record},
            "urn_api": {"100": {**record, "rate": 800.0}},
        },
        "otree": {"form_page": {"get_c1": slow}, "participant_vars": {"by_code_c10": slow}},
        "bots": {"configs": ["a"], "grove": {"total_s": 1.0}, "otree": {"total_s": 4.0}},
    }
    table = format_table(build_rows(results))
    assert "20.0x" in table  # 1000/s against 50/s
    assert "4.0x" in table  # bots: 4 s against 1 s
    checks = {name: met for name, met, _ in check_targets(results)}
    assert checks["page GET at 1 clients >= 10x oTree"] is True  # 20x
    assert checks["participant_vars by code >= 10x oTree"] is True  # 20x
    assert checks["participant_vars by code >= 20% of the floor"] is True  # 25%
    assert checks["urn API >= 1,000/s at 100 prior"] is False
    assert checks["bots: one Grove command over the sample configs faster than `otree test`"]


def test_targets_are_the_issue_table_with_its_thresholds():
    def rate(value: float) -> dict:
        return {"rate": value, "p50_ms": 1.0, "p99_ms": 2.0}

    def creation(size: int, seconds: float) -> dict:
        return {"participants": size, "median_s": seconds}

    def server(get10: float, post1: float, create_s: float) -> dict:
        return {
            "form_page": {"get_c10": rate(get10), "post_c1": rate(post1)},
            "participant_vars": {"by_label_c10": rate(900.0)},
            "session_creation": {
                "creations": [creation(200, 0.1), creation(2000, create_s)],
                "concurrent_gets": {"participants": 2000, "during": {"p99_ms": 49.0}},
            },
            "wait_page": {"p50_ms": 10.5, "p99_ms": 30.0, "groups": 20},
        }

    results = {
        "floor": {"post_c10": rate(5000.0)},
        "grove": {
            **server(get10=1900.0, post1=1000.0, create_s=1.0),
            "urn_api": {"100": rate(1200.0), "100000": rate(900.0)},
        },
        "otree": server(get10=100.0, post1=100.0, create_s=10.0),
        "bot_rate": {
            "config": "bench_bots",
            "participants": [2, 20],
            "grove": {"pages_per_s": 300.0, "startup_s": 0.9},
            "otree": {"pages_per_s": 100.0, "startup_s": 1.0},
        },
    }
    checks = {name: (met, figures) for name, met, figures in check_targets(results)}
    assert checks["page GET at 10 clients >= 20x oTree"] == (False, "19.0x (target 20x)")
    assert checks["page valid POST at 1 clients >= 10x oTree"][0] is True
    assert checks["participant_vars by label >= 10x oTree"][0] is False  # 1x
    assert checks["participant_vars by label >= 20% of the floor"] == (False, "18% of 5,000/s")
    assert checks["urn API >= 1,000/s at 100 prior"][0] is True
    assert checks["urn API >= 1,000/s at 100,000 prior"][0] is False
    assert checks["urn API flat: at 100,000 prior >= 80% of the rate at 100"] == (False, "75%")
    assert checks["bots: pages submitted per second once started >= 3x oTree's"][0] is True
    assert checks["bots: `python -m server test` start-up no slower than `otree test`'s"][0]
    assert checks["2,000-participant session created alone >= 10x oTree"][0] is True
    assert checks["page GET p99 while a 2,000-participant session is created < 50 ms"] == (
        True,
        "49.0 ms",
    )
    assert checks["wait page: last arrival to everyone moved on, p50 <= 10 ms"][0] is False
    table = format_table(build_rows(results))
    assert "bots: pages submitted per second once started (bench_bots, 2 and 20" in table
    assert "3.0x" in table


def test_postgres_rows_sit_beside_sqlite_by_metric():
    from bench.report import build_database_rows, database_header

    def part(rate: float) -> dict:
        record = {"rate": rate, "p50_ms": 1.0, "p99_ms": 2.0}
        return {"form_page": {"get_c10": record}, "participant_vars": {"by_code_c10": record}}

    results = {
        "workers": {"grove": 2},
        "grove": part(1000.0),
        "postgresql": {"workers_1": part(500.0), "workers_2": {"error": "it broke"}},
    }
    rows = build_database_rows(results)
    assert rows[0] == ("1. page GET, 10 clients", "1,000/s", "500/s", "n/a")
    assert (
        "2. participant_vars by participant code, 10 clients",
        "1,000/s",
        "500/s",
        "n/a",
    ) in rows
    assert database_header(results)[1:] == (
        "SQLite, 2 workers",
        "PostgreSQL, 1 worker",
        "PostgreSQL, 2 workers",
    )


def test_the_benchmarked_grove_servers_environment_passes_the_production_checks(tmp_path):
    """The bench starts Grove with OTREE_PRODUCTION=1: a key production refuses would stop
    every run before its first request (the REST key was 14 characters once)."""
    from bench.servers import _common_env
    from server.config import load_settings

    env = {**_common_env(), "DATABASE_URL": databases.database_url(tmp_path)}
    settings = load_settings(REPO_ROOT, env)
    assert settings.production


def _live_record(p99_ms: float, missing: int = 0) -> dict:
    summary = {"count": 600, "p50_ms": p99_ms / 4, "p99_ms": p99_ms, "max_ms": p99_ms}
    return {
        "players": 8,
        "messages_per_s": 16.0,
        "deliveries": 600 - missing,
        "deliveries_expected": 600,
        "deliveries_per_s": 40.0,
        "cross_worker": summary,
        "same_worker": summary,
        "all": summary,
    }


def test_report_live_rows_and_the_cross_worker_target():
    results = {
        "grove": {
            "live": {
                "sqlite": _live_record(40.0),
                "postgresql": _live_record(40.0, missing=7),  # over 1% never arrived
            }
        },
        "otree": {"live": {**_live_record(120.0), "deliveries_per_s": 20.0}},
    }
    table = format_table(build_rows(results))
    assert "7. live round trip p50 / p99, 8 players, SQLite, across workers" in table
    assert "10.0 / 40.0 ms" in table
    assert "30.0 / 120.0 ms" in table
    assert "3.0x" in table  # p99 120 ms against 40 ms
    assert "2.0x" in table  # 40 deliveries/s against 20
    assert "7 of 600" in table
    checks = {name: met for name, met, _ in check_targets(results)}
    assert checks["live round trip across workers p99 < 100 ms, SQLite"] is True
    assert checks["live round trip across workers p99 < 100 ms, PostgreSQL"] is False
    slow = {"grove": {"live": {"sqlite": _live_record(150.0)}}}
    checks = {name: met for name, met, _ in check_targets(slow)}
    assert checks["live round trip across workers p99 < 100 ms, SQLite"] is False


_TINY_LIVE_PLAN = {
    "live_players": 8,
    "live_rate": 4.0,
    "live_warmup_s": 0.5,
    "live_seconds": 1.5,
    "live_drain_s": 2.0,
}


def _check_every_delivery(record: dict, workers: int) -> None:
    sent = record["messages_sent"]
    assert sent >= 8 * 4 * 1.5 * 0.8
    assert record["errors"] == 0, record["first_errors"]
    assert record["deliveries_expected"] == 3 * sent
    assert record["deliveries"] == record["deliveries_expected"]
    assert record["all"]["p50_ms"] > 0
    if workers == 2:
        # Members alternate between the workers: one group mate on the sender's worker, two
        # on the other.
        assert record["same_worker"]["count"] == sent
        assert record["cross_worker"]["count"] == 2 * sent
    else:
        assert record["cross_worker"]["count"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", databases.BOTH)
def test_live_round_trip_on_two_grove_workers_reaches_every_group_member(tmp_path, backend):
    from bench.live_roundtrip import grove_workers, measure

    project = build_grove_project(tmp_path / "project")
    url = databases.database_url(tmp_path, backend=backend)
    with grove_workers(project, tmp_path, url, 2) as servers:
        record = measure(servers, _TINY_LIVE_PLAN)
    assert record["workers"] == 2
    _check_every_delivery(record, workers=2)


@pytest.mark.slow
def test_live_round_trip_on_otree_speaks_its_protocol(tmp_path):
    from bench.live_roundtrip import measure
    from bench.otree_env import OTREE_VERSION, installed_version, otree_command
    from bench.servers import otree_server

    if installed_version() != OTREE_VERSION:
        pytest.skip(
            f"oTree {OTREE_VERSION} is not in bench/.venv-otree (python -m bench installs it)"
        )
    project = build_otree_project(tmp_path / "otree")
    with otree_server(otree_command(), project) as server:
        record = measure([server], _TINY_LIVE_PLAN)
    _check_every_delivery(record, workers=1)


def test_a_failed_metric_is_reported_however_deep_it_sits():
    from bench.__main__ import _failures

    results = {
        "grove": {
            "live": {"sqlite": {"p50_ms": 1.0}, "postgresql": {"error": "no PostgreSQL"}},
            "urn_api": {"100": {"error": "busy"}},
        },
        "otree": {"error": "oTree did not start"},
        "floor": None,
    }
    assert _failures(results) == [
        ("grove live postgresql", "no PostgreSQL"),
        ("grove urn_api 100", "busy"),
        ("otree", "oTree did not start"),
    ]


def test_tree_cpu_counts_a_child_that_has_finished(tmp_path):
    """The server's CPU per request sums every process of its tree, finished ones too (a
    worker that exited, a PostgreSQL connection that closed)."""
    import subprocess
    import sys
    import time

    from bench.cpu import tree_cpu_seconds

    script = (
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'sum(range(30_000_000))'])\n"
        "input()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            if tree_cpu_seconds(parent.pid) >= 0.3:
                break
            time.sleep(0.1)
        assert tree_cpu_seconds(parent.pid) >= 0.3
    finally:
        parent.communicate("\n", timeout=30)


def test_ab_summary_takes_medians_and_the_median_of_pair_ratios():
    from bench.ab import format_report, summarize

    def figures(rate: float, cpu: float) -> dict:
        return {"rate": rate, "p50_ms": 1.0, "p99_ms": 2.0, "server_cpu_ms_per_request": cpu}

    pairs = [
        {"order": ["A", "B"], "A": figures(100, 2.0), "B": figures(150, 1.0)},
        {"order": ["B", "A"], "A": figures(50, 2.0), "B": figures(100, 1.0)},
        {"order": ["A", "B"], "A": figures(200, 4.0), "B": figures(220, 4.0)},
    ]
    summary = summarize(pairs)
    assert summary["rate"] == {"A": 100, "B": 150, "B/A_median_of_pairs": 1.5}
    assert summary["server_cpu_ms_per_request"]["B/A_median_of_pairs"] == 0.5
    document = {
        "metric": "page_get",
        "describe": "sqlite",
        "A": {"name": "HEAD~1", "commit": "a" * 40},
        "B": {"name": "HEAD", "commit": "b" * 40},
        "pairs": pairs,
        "summary": summary,
    }
    report = format_report(document)
    assert "pair 2 B" in report
    assert "1.500x" in report


@pytest.mark.slow
def test_ab_runs_a_metric_on_two_exports(tmp_path, capsys):
    if not wrk_available():
        pytest.skip("wrk is not installed")
    from bench.ab import main

    argv = ["HEAD", "HEAD", "--metric", "vars_code", "--pairs", "1", "--seconds", "1"]
    assert main([*argv, "--workers", "1", "--no-save"]) == 0
    report = capsys.readouterr().out
    assert "pair 1 A" in report
    assert "pair 1 B" in report
    assert "not ok" not in report  # every request answered 2xx


def test_report_shows_the_servers_cpu_per_request_beside_the_rates():
    grove = {"rate": 1000.0, "p50_ms": 1.0, "p99_ms": 2.0, "server_cpu_ms": 1.5}
    otree = {"rate": 100.0, "p50_ms": 9.0, "p99_ms": 20.0, "server_cpu_ms": 9.0}
    results = {"grove": {"form_page": {"get_c1": grove}}, "otree": {"form_page": {"get_c1": otree}}}
    rows = build_rows(results)
    assert ("   server CPU per request", "1.50 ms", "9.00 ms", "", "6.0x") in rows


def test_compile_bytecode_leaves_each_server_module_compiled_as_pip_install_would(tmp_path):
    package = tmp_path / "server" / "bots"
    package.mkdir(parents=True)
    modules = [tmp_path / "server" / "__init__.py", package / "__init__.py", package / "runner.py"]
    for module in modules:
        module.write_text("VALUE = 1\n")
    compile_bytecode(tmp_path)
    for module in modules:
        assert os.path.exists(importlib.util.cache_from_source(str(module)))
    (package / "broken.py").write_text("def (:\n")
    with pytest.raises(RuntimeError, match="does not compile"):
        compile_bytecode(tmp_path)
