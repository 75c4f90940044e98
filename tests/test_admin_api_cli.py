"""``python -m server api``: paths relative to /admin/api/v1/, query strings, JSON bodies,
every page of a paginated list, binary (CSV) downloads, and a non-zero exit with the error
message on a 4xx/5xx. In-process against the app, and once as a user runs it against a real
server (slow)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.__main__ import main
from server.cli.api_commands import (
    ApiError,
    UsageError,
    api_url,
    call_api,
    json_body,
    merge_pages,
    query_pairs,
)
from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.live_server import free_port, live_server
from tests.rest_helpers import REST_KEY

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api


def options(
    path: str, *, method: str = "GET", data: str | None = None, **more
) -> argparse.Namespace:
    values = {
        "url": "http://testserver/",
        "auth": REST_KEY,
        "method": method,
        "path": path,
        "data": data,
        "query": [],
        "output": None,
        "one_page": False,
    }
    values.update(more)
    return argparse.Namespace(**values)


def run(app, opts: argparse.Namespace) -> bytes:
    out = io.BytesIO()
    call_api(opts, out, client_factory=lambda base: TestClient(app))
    return out.getvalue()


def test_urls_and_queries():
    assert api_url("http://h:8000/", "sessions") == "http://h:8000/admin/api/v1/sessions"
    assert (
        api_url("https://h/sub/", "/session/X/?fields=a") == "https://h/sub/admin/api/v1/session/X/"
    )
    assert api_url("http://h", "admin/api/v1/status") == "http://h/admin/api/v1/status"
    assert query_pairs("sessions?config=trust&page=2", ["room=econ101", "x="]) == [
        ("config", "trust"),
        ("page", "2"),
        ("room", "econ101"),
        ("x", ""),
    ]
    with pytest.raises(UsageError):
        query_pairs("sessions", ["no-equals"])


def test_bodies(tmp_path: Path):
    assert json_body(None) is None
    assert json_body('{"a": [1]}') == {"a": [1]}
    body_file = tmp_path / "body.json"
    body_file.write_text('{"config": "trust"}')
    assert json_body(f"@{body_file}") == {"config": "trust"}
    for bad in ("{nope", f"@{tmp_path / 'missing.json'}"):
        with pytest.raises(UsageError):
            json_body(bad)


def test_pages_are_joined():
    pages = [
        {"sessions": [1, 2], "page": 1, "total": 3, "next_page": 2},
        {"sessions": [3], "page": 2, "total": 3, "next_page": None},
    ]
    assert merge_pages(pages) == {"sessions": [1, 2, 3], "page": 1, "total": 3, "next_page": None}


def test_create_then_list_every_page(api_app, api):
    for _ in range(3):
        created = json.loads(
            run(
                api_app,
                options("sessions", method="POST", data='{"config": "survey", "n_players": 1}'),
            )
        )
        assert created["created"] is True
    listed = json.loads(run(api_app, options("sessions/?per_page=1")))
    assert len(listed["sessions"]) == 3
    assert listed["next_page"] is None
    one = json.loads(run(api_app, options("sessions", query=["per_page=2"], one_page=True)))
    assert (len(one["sessions"]), one["next_page"]) == (2, 2)
    filtered = json.loads(run(api_app, options("sessions", query=["config=trust"])))
    assert filtered["sessions"] == []


def test_a_csv_download_is_written_as_it_comes(api_app, api):
    created = api.post(
        f"{V1}/sessions/", json={"config": "trust", "unames": ["a", "b"]}, headers=ADMIN
    )
    sname = created.json()["sname"]
    raw = run(api_app, options(f"session/{sname}/data/csv", query=["bom=true"]))
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row["participant.label"] for row in rows] == ["a", "b"]


def test_errors_carry_the_status_and_message(api_app, api):
    with pytest.raises(ApiError) as missing:
        run(api_app, options("session/nope/"))
    assert missing.value.status == 404
    assert "nope" in str(missing.value)
    with pytest.raises(ApiError) as no_key:
        run(api_app, options("status", auth=""))
    assert no_key.value.status == 401
    with pytest.raises(ApiError) as bad:
        run(api_app, options("sessions", method="POST", data='{"config": "trust", "n_players": 3}'))
    assert bad.value.status == 400
    assert "multiple of 2" in str(bad.value)


def test_exit_statuses_without_a_server(capsys, monkeypatch):
    monkeypatch.delenv("GROVE_API_KEY", raising=False)
    nobody = f"http://127.0.0.1:{free_port()}/"
    assert main(["api", "-u", nobody, "status"]) == 1
    assert "cannot reach" in capsys.readouterr().err
    assert main(["api", "-u", nobody, "-X", "POST", "sessions", "-d", "{oops"]) == 2
    assert "--data is not JSON" in capsys.readouterr().err


@pytest.mark.slow
def test_the_command_as_a_user_runs_it(tmp_path: Path, settings):
    def cli(*arguments: str, key: str | None = REST_KEY) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "GROVE_API_KEY"}
        if key is not None:
            env["GROVE_API_KEY"] = key
        return subprocess.run(
            [sys.executable, "-m", "server", "api", "-u", base, *arguments],
            cwd=tmp_path,  # no project folder needed
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with live_server(
        settings.database_url, workers=1, extra_env={"OTREE_REST_KEY": REST_KEY}
    ) as base:
        created = cli(
            "-X", "POST", "sessions", "-d", '{"config": "trust", "n_players": 2, "sname": "cli"}'
        )
        assert created.returncode == 0, created.stderr
        assert json.loads(created.stdout)["sname"] == "cli"
        detail = cli("session/cli/players", "--query", "fields=code,page")
        assert detail.returncode == 0, detail.stderr
        assert len(json.loads(detail.stdout)) == 2
        export = tmp_path / "cli.csv"
        downloaded = cli("session/cli/data/csv/", "-o", str(export))
        assert downloaded.returncode == 0, downloaded.stderr
        assert export.read_text(encoding="utf-8").startswith("participant.")
        missing = cli("session/nope")
        assert missing.returncode == 1
        assert "HTTP 404" in missing.stderr
        assert "nope" in missing.stderr
        refused = cli("sessions", key=None)
        assert refused.returncode == 1
        assert "HTTP 401" in refused.stderr
