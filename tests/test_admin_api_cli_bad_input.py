"""``python -m server api`` with a user's mistakes: a refused download leaves an existing
``-o`` file as it was, a malformed ``--url`` or a ``--data`` that is no JSON (NaN, a number
too large) is a usage error (exit 2, one line on standard error), never a traceback."""

from __future__ import annotations

import os
import stat
from functools import partial
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

import server.cli.api_commands as api_commands
from server.__main__ import main
from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.live_server import free_port
from tests.rest_helpers import REST_KEY

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api


@pytest.fixture
def in_process(api_app, monkeypatch):
    """``main(["api", ...])`` served by the app in this process."""
    served = partial(api_commands.call_api, client_factory=lambda base: TestClient(api_app))
    monkeypatch.setattr(api_commands, "call_api", served)
    monkeypatch.setenv("GROVE_API_KEY", REST_KEY)


def test_a_refused_download_leaves_the_output_file_as_it_was(in_process, tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    export = folder / "abc123.csv"
    export.write_text("yesterday's export\n")
    status = main(["api", "-u", "http://testserver/", "session/NOPE/data/csv", "-o", str(export)])
    assert status == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert export.read_text() == "yesterday's export\n"
    assert [p.name for p in folder.iterdir()] == ["abc123.csv"]  # no partial file left
    missing = folder / "new.csv"
    assert main(["api", "-u", "http://testserver/", "session/NOPE/data/csv", "-o", str(missing)])
    assert not missing.exists()


def test_a_download_replaces_the_output_file_with_the_usual_permissions(in_process, api, tmp_path):
    created = api.post(
        f"{V1}/sessions/", json={"config": "trust", "unames": ["a", "b"]}, headers=ADMIN
    )
    export = tmp_path / "data.csv"
    export.write_text("old\n")
    sname = created.json()["sname"]
    status = main(
        ["api", "-u", "http://testserver/", f"session/{sname}/data/csv", "-o", str(export)]
    )
    assert status == 0
    assert export.read_text(encoding="utf-8").startswith("participant.")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(export.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://127.0.0.1:port/", "127.0.0.1:8000", "ftp://host/", "http://"]
)
def test_a_malformed_url_is_a_usage_error(url, capsys, monkeypatch):
    monkeypatch.setenv("GROVE_API_KEY", REST_KEY)
    assert main(["api", "-u", url, "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "data", ['{"fee": 1e400}', '{"fee": NaN}', "[Infinity]", '{"a": -Infinity}']
)
def test_data_that_json_cannot_carry_is_a_usage_error(data, capsys, monkeypatch):
    monkeypatch.setenv("GROVE_API_KEY", REST_KEY)
    nobody = f"http://127.0.0.1:{free_port()}/"
    assert main(["api", "-u", nobody, "-X", "PATCH", "session/X/settings", "-d", data]) == 2
    err = capsys.readouterr().err
    assert "--data is not JSON" in err
    assert "Traceback" not in err


def test_output_through_a_symbolic_link_writes_its_target_and_keeps_the_link(in_process, tmp_path):
    # As -o /dev/stdout is: the link must stay a link (replacing it would replace /dev/stdout).
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert main(["api", "-u", "http://testserver/", "status", "-o", str(link)]) == 0
    assert link.is_symlink()
    assert '"version"' in real.read_text()


def test_a_missing_output_folder_is_one_error_line(in_process, tmp_path: Path, capsys):
    target = tmp_path / "no" / "such" / "folder.csv"
    assert main(["api", "-u", "http://testserver/", "status", "-o", str(target)]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_a_key_read_from_a_file_with_its_newline_works(in_process, monkeypatch, capsys):
    monkeypatch.setenv("GROVE_API_KEY", f"{REST_KEY}\r\n")
    assert main(["api", "-u", "http://testserver/", "status"]) == 0
    assert '"version"' in capsys.readouterr().out


@pytest.mark.parametrize("key", ["ключ", "two words"])
def test_a_key_no_header_can_carry_is_a_usage_error(key, capsys):
    nobody = f"http://127.0.0.1:{free_port()}/"
    assert main(["api", "-u", nobody, "-a", key, "status"]) == 2
    err = capsys.readouterr().err
    assert "API key" in err
    assert "Traceback" not in err


def test_a_method_that_is_no_http_method_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setenv("GROVE_API_KEY", REST_KEY)
    nobody = f"http://127.0.0.1:{free_port()}/"
    assert main(["api", "-u", nobody, "-X", "BAD METHOD", "status"]) == 2
    assert "--method" in capsys.readouterr().err


def _redirecting_app(status: int):
    """A server in front of Grove that sends every request on to https://, as a lab's
    http:// address often does."""

    async def redirect(request: Request) -> Response:
        return RedirectResponse(f"https://lab.example.org{request.url.path}", status_code=status)

    app = Starlette(routes=[Route("/{path:path}", redirect, methods=["GET", "POST"])])
    return app


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_write_is_not_followed_as_a_get(status, capsys, monkeypatch):
    monkeypatch.setenv("GROVE_API_KEY", REST_KEY)
    seen: list[str] = []
    app = _redirecting_app(status)

    def factory(base: str) -> TestClient:
        client = TestClient(app, base_url="http://lab.example.org")
        client.event_hooks["request"] = [lambda request: seen.append(request.method)]
        return client

    served = partial(api_commands.call_api, client_factory=factory)
    monkeypatch.setattr(api_commands, "call_api", served)
    body = '{"config": "trust", "n_players": 2}'
    assert main(["api", "-u", "http://lab.example.org/", "-X", "POST", "sessions", "-d", body]) == 1
    err = capsys.readouterr().err
    assert f"HTTP {status}" in err
    assert "https://lab.example.org/admin/api/v1/sessions" in err
    assert seen == ["POST"]  # never sent again as a GET


def test_no_key_at_all_says_how_to_give_one(api_app, monkeypatch, capsys):
    monkeypatch.delenv("GROVE_API_KEY", raising=False)
    served = partial(api_commands.call_api, client_factory=lambda base: TestClient(api_app))
    monkeypatch.setattr(api_commands, "call_api", served)
    assert main(["api", "-u", "http://testserver/", "status"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err
    assert "-a KEY or set $GROVE_API_KEY" in err
    assert main(["api", "-u", "http://testserver/", "-a", "wrong-key", "status"]) == 1
    assert "GROVE_API_KEY" not in capsys.readouterr().err  # a wrong key is another matter


def test_an_answer_labelled_json_that_is_not_is_one_error_line(capsys, monkeypatch):
    monkeypatch.setenv("GROVE_API_KEY", REST_KEY)

    async def login_page(request: Request) -> Response:
        return Response("<html>Please log in</html>", media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", login_page)])
    served = partial(api_commands.call_api, client_factory=lambda base: TestClient(app))
    monkeypatch.setattr(api_commands, "call_api", served)
    assert main(["api", "-u", "http://testserver/", "status"]) == 1
    err = capsys.readouterr().err
    assert "is not (is a proxy in the way?)" in err
    assert "Please log in" in err
    assert "Traceback" not in err
