"""An oTree project in oTree's own layout runs unchanged: ``tests/projects/otree_layout``.

Its apps are folders at the project root, ``SESSION_CONFIGS`` is in ``settings.py``, label
files are in ``_rooms/``, static files in ``_static/`` and in an app's ``static/`` folder,
templates in ``_templates/``, in an app's folder and in oTree 5's ``<app>/templates/<app>/``.
One app imports the other and one is written with ``class Constants`` and lowercase names.
Expected values are oTree 6's behaviour for the same project; broken layouts get an error
that names the file and says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import load_player_bot, run_bots
from server.config import load_settings
from server.errors import ConfigurationError
from server.project import load_project
from server.rooms import load_rooms
from tests import databases
from tests.conftest import REPO_ROOT, create_demo_session
from tests.form_filling import fill_and_submit

PROJECT = Path(__file__).resolve().parent / "projects" / "otree_layout"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(load_settings(PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)}))
    with TestClient(app) as test_client:
        yield test_client
    app.state.grove.db.dispose()


def _copy(tmp_path: Path) -> Path:
    """A copy of the project to break."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _configs(root: Path, app_sequence: list[str]) -> None:
    """Point the copy's only session config at other apps."""
    settings = root / "settings.py"
    text = settings.read_text()
    settings.write_text(
        text.replace('app_sequence=["intro", "game"]', f"app_sequence={app_sequence}")
    )


def _load(root: Path) -> None:
    load_project(load_settings(root, {}))


# Loading


def test_apps_at_the_root_are_imported_under_their_folder_name():
    project = load_project(load_settings(PROJECT, {}))
    assert list(project.session_configs) == ["bargain"]
    intro, game = project.apps["intro"], project.apps["game"]
    assert intro.module.__name__ == "intro"
    assert game.module.__name__ == "game"
    assert (intro.location, game.location) == ("intro", "game")
    assert intro.module.C.INSTRUCTIONS_TEMPLATE == "intro/Instructions.html"
    # game imports intro: the same module, not a second copy.
    assert game.module.intro is intro.module
    assert sys.modules["game"] is game.module


def test_lowercase_constants_are_oTrees_constants():
    game = load_project(load_settings(PROJECT, {})).apps["game"]
    assert (game.num_rounds, game.players_per_group, game.name_in_url) == (3, 2, "bargain")
    assert game.roles == ["Proposer", "Responder"]
    constants = game.module.Constants
    # Both spellings, so app code and Grove agree.
    assert (constants.num_rounds, constants.NUM_ROUNDS) == (3, 3)
    assert project_page_count() == 1 + 3 * 3


def project_page_count() -> int:
    project = load_project(load_settings(PROJECT, {}))
    return len(project.page_sequence(["intro", "game"]))


def test_another_project_with_the_same_app_name_does_not_get_this_ones_module(tmp_path):
    first = load_project(load_settings(PROJECT, {})).apps["game"].module
    other = _copy(tmp_path)
    (other / "game" / "__init__.py").write_text(
        (other / "game" / "__init__.py").read_text().replace("num_rounds = 3", "num_rounds = 2")
    )
    second = load_project(load_settings(other, {})).apps["game"]
    assert second.module is not first
    assert second.num_rounds == 2
    assert Path(second.module.__file__).is_relative_to(other)
    # Loading the first project again makes `game` its own module once more.
    again = load_project(load_settings(PROJECT, {})).apps["game"]
    assert again.module is first
    assert sys.modules["game"] is first
    assert load_player_bot(load_settings(PROJECT, {}), "game").__module__ == "game.tests"


def test_grove_layout_still_loads():
    project = load_project(load_settings(REPO_ROOT, {}))
    survey = project.apps["survey"]
    assert survey.module.__name__ == "survey"
    assert survey.location == "apps/survey"


def test_a_mixed_project_imports_an_app_in_apps_from_one_at_the_root(tmp_path):
    """intro in apps/ (Grove's layout, not on sys.path), game at the root imports it; game's
    get_template_name is a staticmethod taking the player (Grove's hooks' style)."""
    root = _copy(tmp_path)
    (root / "apps").mkdir()
    shutil.move(root / "intro", root / "apps" / "intro")
    init = root / "game" / "__init__.py"
    init.write_text(
        init.read_text().replace(
            "    def get_template_name(self):\n",
            "    @staticmethod\n"
            "    def get_template_name(player):\n"
            "        return 'game/LastOffer.html'\n\n"
            "    def unused(self):\n",
        )
    )
    app = create_app(load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)}))
    assert app.state.grove.project.apps["intro"].location == "apps/intro"
    assert app.state.grove.project.apps["game"].module.intro.__file__ == str(
        root / "apps" / "intro" / "__init__.py"
    )
    with TestClient(app) as client:
        _code, links = create_demo_session(client, "bargain")
        url, html = _page(client, links[0])
        assert "You will bargain with another participant for three rounds." in html
        url = fill_and_submit(client, url, {"nickname": "ann"}).headers["location"]
        url, html = _page(client, url)
        assert "/bargain/Offer/" in url
        assert _title(html) == "Last offer"
    app.state.grove.db.dispose()


def test_rooms_read_labels_from_underscore_rooms():
    rooms = load_rooms(load_settings(PROJECT, {}))
    assert rooms["econ101"].labels == frozenset({"alice", "bob", "carol", "dave"})


def test_bots_of_apps_at_the_root_pass(tmp_path):
    database_url = databases.database_url(tmp_path, "bots")
    results = run_bots(load_settings(PROJECT, {}), "bargain", database_url=database_url)
    assert [result.error for result in results] == [None]


# Playing a session over HTTP


def _page(client: TestClient, url: str) -> tuple[str, str]:
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200, response.text
    return str(response.url).removeprefix("http://testserver"), response.text


def _title(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
    assert match, html
    return match.group(1).strip()


def test_three_rounds_in_pairs_over_http(client):
    code, links = create_demo_session(client, "bargain")
    assert len(links) == 4
    urls = []
    for number, link in enumerate(links, start=1):
        url, html = _page(client, link)
        assert "/intro/Welcome/" in url
        # intro/templates/intro/ (oTree 5), the instructions by __name__, and _templates/.
        assert "You will bargain with another participant for three rounds." in html
        assert '<p class="lab-footer">Economics lab</p>' in html
        response = fill_and_submit(client, url, {"nickname": f"player{number}"})
        assert response.status_code == 303, response.text
        urls.append(response.headers["location"])
    for round_number in (1, 2, 3):
        offers = {}
        for index, url in enumerate(urls):
            url, html = _page(client, url)
            if "/bargain/Offer/" in url:
                offers[index] = 10 * round_number + index
                urls[index] = fill_and_submit(client, url, {"offer": str(offers[index])}).headers[
                    "location"
                ]
                # get_template_name(): the last round has its own template.
                if round_number == 3:
                    assert _title(html) == "Last offer"
                    assert "This is the last round." in html
                else:
                    assert _title(html) == f"Your offer, round {round_number} of 3"
            else:
                # The responder waits, or goes on if the proposer was first.
                assert "/bargain/ResultsWaitPage/" in url or "/bargain/Results/" in url
                urls[index] = url
        # Groups of two, the first of each pair proposes: participants 1 and 3.
        assert sorted(offers) == [0, 2]
        for index, url in enumerate(urls):
            url, html = _page(client, url)
            assert "/bargain/Results/" in url
            offer = offers[index - index % 2]
            role = "Proposer" if index % 2 == 0 else "Responder"
            payoff = 100 - offer if role == "Proposer" else offer
            assert f'<p class="role">You were the {role}.</p>' in html
            assert f'<p class="offer">The offer was {offer}.</p>' in html
            assert f'<p class="payoff">You earned {payoff} points.</p>' in html
            assert '<p class="modules">game / intro / 1</p>' in html
            assert f'<p class="rounds-left">{3 - round_number}</p>' in html
            assert '<img src="/static/game/coin.svg"' in html
            urls[index] = fill_and_submit(client, url, {}).headers["location"]
    assert all(url.endswith("/finished") for url in urls), urls
    data = client.get(f"/api/sessions/{code}").json()
    assert len(data["participants"]) == 4


def test_tables_hold_three_rounds_of_two_groups(tmp_path):
    settings = load_settings(PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    with TestClient(app) as client:
        create_demo_session(client, "bargain")
    with app.state.grove.db.read() as db:
        groups = db.execute(sa.text("SELECT round_number, id FROM game_group")).all()
        players = db.execute(sa.text("SELECT id_in_group FROM game_player")).all()
    app.state.grove.db.dispose()
    assert sorted(r for r, _ in groups) == [1, 1, 2, 2, 3, 3]
    assert sorted(p for (p,) in players) == [1] * 6 + [2] * 6


def test_a_label_from_underscore_rooms_joins(client):
    page = client.post("/room/econ101/", data={"participant_label": "alice"})
    assert page.status_code == 200
    refused = client.post(
        "/room/econ101/", data={"participant_label": "mallory"}, follow_redirects=False
    )
    assert refused.status_code == 403


# Static files


def test_static_files_from_underscore_static_and_the_apps_static_folder(client):
    style = client.get("/static/global/style.css")
    assert style.status_code == 200
    assert ".lab-banner" in style.text
    coin = client.get("/static/game/coin.svg")
    assert coin.status_code == 200
    assert "<svg" in coin.text


@pytest.mark.parametrize(
    "path",
    [
        "/static/../settings.py",
        "/static/%2e%2e/settings.py",
        "/static/game/../../settings.py",
        "/static/game/%2e%2e/%2e%2e/game/__init__.py",
        "/static/..%2fsettings.py",
        "/static/%2fetc%2fpasswd",
        "/static/game/__init__.py",
        "/static/game/static/game/coin.svg",
        "/static/settings.py",
    ],
)
def test_static_paths_stay_inside_the_static_folders(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "SECRET_KEY" not in response.text
    assert "BaseConstants" not in response.text


def test_a_symlink_in_a_static_folder_cannot_lead_out(tmp_path):
    root = _copy(tmp_path)
    (root / "_static" / "leak.py").symlink_to(root / "settings.py")
    (root / "game" / "static" / "game" / "up").symlink_to(root)
    app = create_app(load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)}))
    with TestClient(app) as client:
        assert client.get("/static/leak.py").status_code == 404
        assert client.get("/static/game/up/settings.py").status_code == 404
        assert client.get("/static/global/style.css").status_code == 200
    app.state.grove.db.dispose()


# Broken layouts


def test_old_format_is_refused_with_what_to_do(tmp_path):
    root = _copy(tmp_path)
    old = root / "old_app"
    old.mkdir()
    (old / "__init__.py").write_text("")
    (old / "models.py").write_text("from otree.api import *\n")
    (old / "pages.py").write_text("from ._builtin import Page\n")
    _configs(root, ["old_app"])
    with pytest.raises(ConfigurationError) as raised:
        _load(root)
    message = str(raised.value)
    assert message.startswith("old_app/: this app is in oTree's old format (models.py + pages.py")
    assert "otree remove_self" in message
    assert "old_app/__init__.py" in message


def test_missing_app_says_where_it_looked(tmp_path):
    root = _copy(tmp_path)
    _configs(root, ["intro", "nope"])
    with pytest.raises(ConfigurationError) as raised:
        _load(root)
    message = str(raised.value)
    assert message.startswith("settings.py: SESSION_CONFIGS[0] (bargain): app 'nope' not found")
    assert "nope/__init__.py" in message
    assert "apps/nope/__init__.py" in message


@pytest.mark.parametrize(
    ("name", "hidden"),
    [
        ("json", "Python's standard module 'json'"),
        ("server", "Grove's own package 'server'"),
        ("jinja2", "the installed package 'jinja2'"),
    ],
)
def test_app_named_like_a_module_it_would_hide_is_refused(tmp_path, name, hidden):
    root = _copy(tmp_path)
    shutil.copytree(root / "intro", root / name)
    _configs(root, [name])
    with pytest.raises(ConfigurationError, match=re.escape(f"would hide {hidden}")):
        _load(root)


def test_app_in_both_places_is_refused(tmp_path):
    root = _copy(tmp_path)
    shutil.copytree(root / "intro", root / "apps" / "intro")
    with pytest.raises(ConfigurationError, match=r"app 'intro' is in two places"):
        _load(root)


def _otree_test(root: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``otree test bargain`` run in the project's folder, as its user runs it: through a
    console script like pip's (``python -m`` would put the folder on ``sys.path`` itself)."""
    script = tmp_path / "bin" / "otree"
    script.parent.mkdir()
    script.write_text("import sys\nfrom server.__main__ import main\nsys.exit(main())\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTREE_", "GROVE_"))}
    env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, str(script), "test", "bargain"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_settings_may_import_a_module_beside_it(tmp_path):
    # oTree runs from the project's folder, so settings.py can import a helper module there.
    root = _copy(tmp_path)
    settings = root / "settings.py"
    text = settings.read_text()
    start, end = text.index("ROOMS = ["), text.index("ADMIN_USERNAME")
    (root / "lab_rooms.py").write_text(text[start:end])
    settings.write_text(text[:start] + "from lab_rooms import ROOMS\n\n" + text[end:])
    done = _otree_test(root, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": OK (" in done.stdout, done.stdout


def test_settings_may_import_its_session_configs_from_session_configs_py(tmp_path):
    # An oTree project that keeps SESSION_CONFIGS in a module of its own and imports it
    # into settings.py (as bench/projects.py builds oTree's copy) has one list, not two.
    root = _copy(tmp_path)
    settings = root / "settings.py"
    text = settings.read_text()
    start, end = text.index("SESSION_CONFIGS = ["), text.index("SESSION_CONFIG_DEFAULTS")
    (root / "session_configs.py").write_text(text[start:end])
    settings.write_text(
        text[:start] + "from session_configs import SESSION_CONFIGS\n\n" + text[end:]
    )
    done = _otree_test(root, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": OK (" in done.stdout, done.stdout


def test_session_configs_in_both_files_are_refused(tmp_path):
    root = _copy(tmp_path)
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [dict(name='x', app_sequence=['intro'], num_demo_participants=1)]\n"
    )
    with pytest.raises(ConfigurationError, match=r"both settings.py and session_configs.py"):
        _load(root)


def test_no_session_configs_anywhere(tmp_path):
    root = _copy(tmp_path)
    settings = root / "settings.py"
    settings.write_text(settings.read_text().replace("SESSION_CONFIGS =", "CONFIGS ="))
    with pytest.raises(ConfigurationError, match=r"no SESSION_CONFIGS: define it in settings.py"):
        _load(root)


def test_two_spellings_of_a_constant_must_agree(tmp_path):
    root = _copy(tmp_path)
    init = root / "game" / "__init__.py"
    init.write_text(
        init.read_text().replace("num_rounds = 3", "num_rounds = 3\n    NUM_ROUNDS = 2")
    )
    with pytest.raises(ConfigurationError, match=r"game/__init__.py: Constants.NUM_ROUNDS and "):
        _load(root)


@pytest.mark.parametrize(
    "label_file", ["settings.py", "_rooms/../settings.py", "../econ101.txt", "/etc/passwd"]
)
def test_label_file_outside_the_label_folders_is_refused(tmp_path, label_file):
    root = _copy(tmp_path)
    settings = root / "settings.py"
    settings.write_text(settings.read_text().replace("_rooms/econ101.txt", label_file))
    with pytest.raises(ConfigurationError, match=r"must be inside _rooms/ or rooms/"):
        load_rooms(load_settings(root, {}))


def test_label_file_symlinked_out_of_underscore_rooms_is_refused(tmp_path):
    root = _copy(tmp_path)
    (root / "_rooms" / "econ101.txt").unlink()
    (root / "_rooms" / "econ101.txt").symlink_to(root / "settings.py")
    with pytest.raises(ConfigurationError, match=r"must be inside _rooms/ or rooms/"):
        load_rooms(load_settings(root, {}))
