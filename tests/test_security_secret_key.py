"""The secret key: production refuses to start without a real one; a development server signs
with a random key of its own install (``.grove_secret``), never with one the repository shows.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from itsdangerous import Signer
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings, load_settings
from server.errors import ConfigurationError
from server.secret_key import SECRET_FILE_NAME
from tests import databases
from tests.conftest import REPO_ROOT

PUBLISHED = "grove-development-secret-key-change-me"
GOOD = "k" * 40


def _project(tmp_path: Path, settings_text: str | None = None) -> Path:
    """A copy of the sample project's settings.py and rooms/ (enough for load_settings)."""
    root = tmp_path / "project"
    root.mkdir(parents=True)
    text = (REPO_ROOT / "settings.py").read_text() if settings_text is None else settings_text
    (root / "settings.py").write_text(text)
    shutil.copytree(REPO_ROOT / "rooms", root / "rooms")
    return root


def test_the_sample_settings_carry_no_secret_key():
    assert "SECRET_KEY =" not in (REPO_ROOT / "settings.py").read_text()
    assert SECRET_FILE_NAME in (REPO_ROOT / ".gitignore").read_text().split()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "no secret key is set"),
        ({"OTREE_SECRET_KEY": PUBLISHED}, "published default"),
        ({"OTREE_SECRET_KEY": "short-secret"}, "only 12 characters"),
    ],
    ids=["unset", "published", "short"],
)
def test_production_refuses_a_missing_published_or_short_key(tmp_path, environ, expected):
    root = _project(tmp_path)
    with pytest.raises(ConfigurationError, match=expected) as raised:
        load_settings(root, {"OTREE_PRODUCTION": "1", **environ})
    assert "OTREE_SECRET_KEY" in str(raised.value)
    assert not (root / SECRET_FILE_NAME).exists()


def test_production_refuses_the_published_key_from_settings_py(tmp_path):
    root = _project(tmp_path, f'SECRET_KEY = "{PUBLISHED}"\n')
    with pytest.raises(ConfigurationError, match="published default"):
        load_settings(root, {"OTREE_PRODUCTION": "yes"})
    with pytest.raises(ConfigurationError, match="OTREE_SECRET_KEY"):
        Settings(root=root, production=True)


def test_production_takes_a_long_key_from_the_environment_or_settings_py(tmp_path):
    root = _project(tmp_path, f'SECRET_KEY = "{"s" * 50}"\n')
    assert load_settings(root, {"OTREE_PRODUCTION": "1"}).secret_key == "s" * 50
    from_env = load_settings(root, {"OTREE_PRODUCTION": "1", "OTREE_SECRET_KEY": GOOD})
    assert from_env.secret_key == GOOD


@pytest.mark.slow  # a subprocess loading Grove: about 2.5 s
def test_prodserver_refuses_to_start_and_says_how_to_set_the_key(tmp_path):
    root = _project(tmp_path)
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTREE_", "GROVE_", "DATABASE_URL"))
    }
    environ.update(
        OTREE_PRODUCTION="1",
        GROVE_PROJECT_ROOT=str(root),
        DATABASE_URL=databases.database_url(tmp_path),
    )
    finished = subprocess.run(
        [sys.executable, "-m", "server", "prodserver", "--port", "1"],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 1
    assert "OTREE_PRODUCTION is set but no secret key is set" in finished.stderr
    assert "OTREE_SECRET_KEY" in finished.stderr


def test_development_key_is_random_per_install_private_and_kept(tmp_path):
    first_root = _project(tmp_path / "a")
    second_root = _project(tmp_path / "b", f'SECRET_KEY = "{PUBLISHED}"\n')
    first = load_settings(first_root, {}).secret_key
    assert load_settings(first_root, {}).secret_key == first  # a restart signs alike
    second = load_settings(second_root, {}).secret_key
    assert len(first) >= 32
    assert first != second
    assert PUBLISHED not in (first, second)
    secret_file = first_root / SECRET_FILE_NAME
    assert secret_file.read_text().strip() == first
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert [p.name for p in first_root.iterdir() if p.name.startswith(".grove")] == [
        SECRET_FILE_NAME
    ]


@pytest.mark.slow  # eight subprocesses started at once
def test_workers_starting_at_once_agree_on_the_development_key(tmp_path):
    root = _project(tmp_path)
    program = (
        "import sys; from server.secret_key import development_secret_key; "
        "print(development_secret_key(sys.argv[1]))"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", program, str(root)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    keys = {worker.communicate(timeout=60)[0].strip() for worker in workers}
    assert keys == {(root / SECRET_FILE_NAME).read_text().strip()}
    assert all(worker.returncode == 0 for worker in workers)


def test_a_link_signed_with_the_published_key_is_refused(tmp_path):
    """A secure room's personal link, forged with the key the sample settings.py used to carry:
    refused, while the link the admin's rooms page shows is let in."""
    root = _project(tmp_path)
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    settings = settings.with_changes(
        root=REPO_ROOT,
        rooms=(
            {"name": "secure", "participant_label_file": "rooms/econ101.txt", "use_secure_urls": 1},
        ),
    )
    forged = Signer(PUBLISHED, salt="grove-room-label").get_signature("secure:alice").decode()
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            client.post(
                "/api/sessions/",
                json={
                    "session_config_name": "survey",
                    "num_participants": 1,
                    "room_name": "secure",
                },
            ).raise_for_status()
            refused = client.post(
                "/room/secure/",
                data={"participant_label": "alice", "hash": forged},
                follow_redirects=False,
            )
            assert refused.status_code == 403
            assert "personal link" in refused.text
            page = client.get("/rooms").text
            link = next(
                line.split("<code>")[1].split("</code>")[0].replace("&amp;", "&")
                for line in page.split("<li>")
                if "participant_label=alice&" in line.replace("&amp;", "&")
            )
            query = dict(parse_qsl(urlsplit(link).query))
            assert query["hash"] != forged
            admitted = client.post("/room/secure/", data=query, follow_redirects=False)
            assert admitted.status_code == 303
    finally:
        app.state.grove.db.dispose()


def test_production_closes_the_rest_api_when_no_key_is_configured(tmp_path):
    """In production the REST API needs a key even without OTREE_REST_KEY or an auth level
    (an attack found every participant's data exported to anyone while the admin pages asked
    for a login); the answer says how to configure one, and a key opens it again."""
    from starlette.testclient import TestClient

    from server.app import create_app
    from server.config import Settings
    from tests import databases

    settings = Settings(
        root=REPO_ROOT,
        database_url=databases.database_url(tmp_path),
        production=True,
        secret_key="s" * 40,
        admin_password="secret",
    )
    for path in ("/api/sessions/", "/api/export/all_apps_wide"):
        app = create_app(settings)
        with TestClient(app) as client:
            refused = client.get(path, headers={"otree-rest-key": "anything"})
            assert refused.status_code == 403, refused.text
            assert "OTREE_REST_KEY" in refused.json()["error"]
        app.state.grove.db.dispose()
    key = "k" * 20
    app = create_app(settings.with_changes(rest_key=key))
    with TestClient(app) as client:
        assert client.get("/api/sessions/").status_code == 403
        assert client.get("/api/sessions/", headers={"otree-rest-key": key}).status_code == 200
    app.state.grove.db.dispose()


def test_production_refuses_a_rest_key_that_is_easy_to_guess(tmp_path):
    with pytest.raises(ConfigurationError, match="OTREE_REST_KEY has only 1 characters"):
        Settings(root=REPO_ROOT, production=True, secret_key="s" * 40, rest_key="k")
    Settings(root=REPO_ROOT, production=True, secret_key="s" * 40, rest_key="k" * 16)


@pytest.mark.parametrize(("auth_level", "warned"), [(None, True), ("DEMO", True), ("STUDY", False)])
def test_production_warns_at_start_while_the_demo_page_is_public(caplog, auth_level, warned):
    from server.cli.server_commands import _warn_if_open

    settings = Settings(root=REPO_ROOT, production=True, secret_key="s" * 40, auth_level=auth_level)
    with caplog.at_level("WARNING", logger="grove"):
        _warn_if_open(settings)
    said = any("demo page is public" in record.getMessage() for record in caplog.records)
    assert said is warned
