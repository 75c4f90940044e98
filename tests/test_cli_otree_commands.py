"""oTree's command line and import names, served by Grove: the ``otree`` package
(``from otree.api import *``, ``from otree import settings``), the positional port and oTree's
command names, ``startproject``/``startapp``, and ``zip``/``unzip`` (the ``.otreezip`` format)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
import uvicorn

import otree.api
import server.api
from server.__main__ import build_parser, main
from server.bots.runner import run_bots
from server.cli import server_commands
from server.cli.archive_commands import unzip_project, zip_project
from server.cli.scaffold_commands import create_app_folder, create_project
from server.config import Settings, load_settings
from server.errors import GroveError
from server.project import load_project
from tests import databases
from tests.conftest import REPO_ROOT

# The file a development server keeps its data in, in the project folder (Grove's default).
LOCAL_DATABASE = Settings(root=REPO_ROOT).database_url.rsplit("/", 1)[1]


def _run(monkeypatch, where: Path, *argv: str) -> int:
    monkeypatch.chdir(where)
    return main(list(argv))


# --- import names ------------------------------------------------------------------------


def test_otree_api_exports_exactly_what_server_api_exports():
    namespace: dict[str, object] = {}
    exec("from otree.api import *", namespace)
    namespace.pop("__builtins__")
    assert otree.api.__all__ == server.api.__all__
    assert set(namespace) == set(server.api.__all__)
    for name in server.api.__all__:
        assert namespace[name] is getattr(server.api, name), name
    for name in ("cu", "Currency", "models", "widgets", "Page", "WaitPage", "Bot", "expect"):
        assert name in namespace
    for name in ("Submission", "SubmissionMustFail", "read_csv", "BasePlayer", "BaseConstants"):
        assert name in namespace


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


# An app as oTree users write it: oTree's import lines, settings read at import and at run time.
OTREE_STYLE_APP = """
    from otree.api import *
    from otree import settings

    LANGUAGE_AT_IMPORT = settings.LANGUAGE_CODE


    class C(BaseConstants):
        NAME_IN_URL = "reader"
        PLAYERS_PER_GROUP = None
        NUM_ROUNDS = 1


    class Subsession(BaseSubsession):
        pass


    class Group(BaseGroup):
        pass


    class Player(BasePlayer):
        age = models.IntegerField(min=0, max=120)


    class Show(Page):
        form_model = "player"
        form_fields = ["age"]

        @staticmethod
        def vars_for_template(player):
            return dict(
                debug=settings.DEBUG,
                language=LANGUAGE_AT_IMPORT,
                currency=settings.REAL_WORLD_CURRENCY_CODE,
                apps=settings.OTREE_APPS,
                custom=settings.LAB_NAME,
            )


    page_sequence = [Show]
"""

OTREE_STYLE_BOT = """
    from otree.api import *

    from . import Show


    class PlayerBot(Bot):
        def play_round(self):
            expect("debug=True", "in", self.html)
            expect("language=de", "in", self.html)
            expect("currency=EUR", "in", self.html)
            expect("apps=reader", "in", self.html)
            expect("custom=Lab 3", "in", self.html)
            yield Show, dict(age=30)
"""


def grove_layout_project(root: Path) -> Path:
    _write(
        root / "settings.py",
        """
        LANGUAGE_CODE = "de"
        REAL_WORLD_CURRENCY_CODE = "EUR"
        LAB_NAME = "Lab 3"
        """,
    )
    _write(
        root / "session_configs.py",
        """
        SESSION_CONFIGS = [
            dict(name="reader", app_sequence=["reader"], num_demo_participants=1),
        ]
        """,
    )
    _write(root / "apps" / "reader" / "__init__.py", OTREE_STYLE_APP)
    _write(root / "apps" / "reader" / "tests.py", OTREE_STYLE_BOT)
    _write(
        root / "apps" / "reader" / "Show.html",
        """
        {{ block content }}
        debug={{ debug }} language={{ language }} currency={{ currency }} apps={{ apps|join(",") }}
        custom={{ custom }}
        {{ formfields }}{{ next_button }}
        {{ endblock }}
        """,
    )
    return root


def test_an_app_with_otree_imports_reads_the_projects_settings(tmp_path, monkeypatch):
    root = grove_layout_project(tmp_path / "project")
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))
    monkeypatch.delenv("OTREE_PRODUCTION", raising=False)
    settings = load_settings(root, {})
    assert load_project(settings).apps["reader"].module.LANGUAGE_AT_IMPORT == "de"
    results = run_bots(settings, "reader", database_url=databases.database_url(tmp_path, "bots"))
    assert [result.ok for result in results] == [True], [result.error for result in results]


MY_GAME_BOT = """
    from otree.api import *
    from otree import settings

    from . import MyPage, Results


    class PlayerBot(Bot):
        def play_round(self):
            expect(settings.DEBUG, True)
            expect(settings.OTREE_APPS, ["my_game"])
            yield MyPage
            expect("Results", "in", self.html)
            yield Results
"""


def add_config_and_bots(root: Path) -> None:
    """Give a startproject + startapp project a session config and bots, as a user would."""
    settings_file = root / "settings.py"
    text = settings_file.read_text()
    config = '    dict(name="my_game", app_sequence=["my_game"], num_demo_participants=2),\n'
    settings_file.write_text(
        text.replace("SESSION_CONFIGS = [\n", "SESSION_CONFIGS = [\n" + config)
    )
    _write(root / "my_game" / "tests.py", MY_GAME_BOT)


def test_a_new_project_and_app_in_otrees_layout_pass_their_bots(tmp_path, monkeypatch):
    root = tmp_path / "study"
    create_project(root)
    create_app_folder(root, "my_game")
    add_config_and_bots(root)
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))
    monkeypatch.delenv("OTREE_PRODUCTION", raising=False)
    settings = load_settings(root, {})
    assert load_project(settings).apps["my_game"].location == "my_game"
    results = run_bots(settings, "my_game", database_url=databases.database_url(tmp_path, "b"))
    assert [result.ok for result in results] == [True], [result.error for result in results]
    assert results[0].num_participants == 2


def test_otree_settings_holds_the_settings_file_and_the_values_in_effect(tmp_path, monkeypatch):
    from otree import settings

    root = tmp_path / "project"
    _write(
        root / "settings.py",
        """
        from os import environ

        SESSION_CONFIGS = [
            dict(name="a", app_sequence=["intro", "game"], num_demo_participants=2),
            dict(name="b", app_sequence=["game", "outro"], num_demo_participants=2),
        ]
        LANGUAGE_CODE = "de-at"
        REAL_WORLD_CURRENCY_CODE = "JPY"
        ADMIN_PASSWORD = environ.get("OTREE_ADMIN_PASSWORD")
        MY_OWN_SETTING = [1, 2]
        """,
    )
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))
    monkeypatch.delenv("OTREE_PRODUCTION", raising=False)
    monkeypatch.delenv("OTREE_AUTH_LEVEL", raising=False)
    monkeypatch.setenv("OTREE_ADMIN_PASSWORD", "from-the-environment")

    assert settings.DEBUG is True
    assert settings.LANGUAGE_CODE == "de-at"
    assert settings.LANGUAGE_CODE_ISO == "de_AT"
    assert settings.DECIMAL_SEPARATOR == ","
    assert settings.REAL_WORLD_CURRENCY_CODE == "JPY"
    assert settings.REAL_WORLD_CURRENCY_DECIMAL_PLACES == 0  # oTree's rule for yen
    assert settings.USE_POINTS is True
    assert settings.POINTS_CUSTOM_NAME is None
    assert settings.AUTH_LEVEL is None
    assert settings.ADMIN_PASSWORD == "from-the-environment"
    assert settings.MY_OWN_SETTING == [1, 2]
    assert [config["name"] for config in settings.SESSION_CONFIGS] == ["a", "b"]
    assert settings.OTREE_APPS == ["intro", "game", "outro"]
    assert settings.PARTICIPANT_FIELDS == []
    assert not hasattr(settings, "NOT_A_SETTING")
    assert "MY_OWN_SETTING" in dir(settings)
    namespace: dict[str, object] = {}
    exec("from otree.settings import *", namespace)
    assert namespace["LANGUAGE_CODE"] == "de-at"

    monkeypatch.setenv("OTREE_PRODUCTION", "1")
    monkeypatch.setenv("OTREE_SECRET_KEY", "s" * 50)
    monkeypatch.setenv("OTREE_REST_KEY", "r" * 50)
    monkeypatch.setenv("OTREE_AUTH_LEVEL", "STUDY")
    assert settings.DEBUG is False
    assert settings.AUTH_LEVEL == "STUDY"


def test_otree_settings_outside_a_project_says_where_to_run(tmp_path, monkeypatch):
    from otree import settings

    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(tmp_path))
    with pytest.raises(GroveError, match=r"settings\.py does not exist"):
        _ = settings.DEBUG


# --- the command line ------------------------------------------------------------------


@pytest.fixture
def served(settings, monkeypatch) -> list[dict]:
    """Run server commands on the sample project and this test's database; uvicorn.run only
    records what it was asked."""
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(REPO_ROOT))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    for name in ("OTREE_PRODUCTION", "OTREE_AUTH_LEVEL", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return calls


@pytest.mark.parametrize(
    ("argv", "host", "port"),
    [
        (["devserver"], "127.0.0.1", 8000),
        (["devserver", "8001"], "127.0.0.1", 8001),  # oTree's positional port
        (["devserver", "0.0.0.0:8002"], "0.0.0.0", 8002),
        (["devserver", "[::1]:8003"], "::1", 8003),
        (["devserver", "--port", "8004"], "127.0.0.1", 8004),
        (["devserver", "8005", "--host", "0.0.0.0"], "0.0.0.0", 8005),
        (["devserver", "8006", "--port", "8006"], "127.0.0.1", 8006),
        (["prodserver"], "0.0.0.0", 8000),
        (["prodserver", "9001"], "0.0.0.0", 9001),
        (["prodserver", "127.0.0.1:9002"], "127.0.0.1", 9002),
        (["prodserver1of2", "9003"], "0.0.0.0", 9003),  # oTree's Procfile line
        (["runprodserver", "--port", "9004"], "0.0.0.0", 9004),
    ],
)
def test_servers_take_otrees_positional_port_and_grove_options(served, argv, host, port):
    assert main(argv) == 0
    assert len(served) == 1
    assert (served[0]["host"], served[0]["port"]) == (host, port)


def test_prodserver_listens_on_the_port_environment_variable(served, monkeypatch):
    monkeypatch.setenv("PORT", "5123")
    assert main(["prodserver"]) == 0
    assert main(["prodserver", "5124"]) == 0
    assert [call["port"] for call in served] == [5123, 5124]


def test_otrees_worker_process_only_waits_until_stopped(monkeypatch, capsys):
    """A Procfile's ``worker: otree prodserver2of2`` must not crash in a loop."""

    class StoppedAtOnce:
        def wait(self) -> None:
            raise KeyboardInterrupt

    monkeypatch.setattr(server_commands.threading, "Event", StoppedAtOnce)
    assert main(["prodserver2of2"]) == 0
    assert "prodserver handles timeouts" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["devserver", "80x"], "port number from 1 to 65535, not '80x'"),
        (["devserver", "70000"], "port number"),
        (["devserver", ":8000"], "names no host"),
        (["devserver", "8001", "--port", "8002"], "two ports given"),
        (["devserver", "0.0.0.0:8001", "--host", "127.0.0.1"], "two hosts given"),
    ],
)
def test_a_bad_address_is_one_line_before_anything_starts(served, capsys, argv, message):
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert served == []


def test_a_bad_port_variable_is_named(served, monkeypatch, capsys):
    monkeypatch.setenv("PORT", "eighty")
    assert main(["prodserver"]) == 1
    assert "PORT must be a port number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "handler"),
    [
        (["test", "survey", "3"], "test_command"),
        (["bots", "survey"], "test_command"),
        (["resetdb", "--noinput"], "resetdb"),
        (["create_session", "survey", "2", "--room", "econ101"], "create_session_command"),
        (["prodserver2of2"], "idle_worker"),
        (["timeoutworker"], "idle_worker"),
        (["startproject", "study", "--noinput"], "startproject"),
        (["startapp", "my_app"], "startapp"),
        (["zip"], "zip_command"),
        (["unzip", "study.otreezip"], "unzip_command"),
    ],
)
def test_otrees_commands_and_their_argument_forms_parse(argv, handler):
    assert build_parser().parse_args(argv).handler.__name__ == handler
    # As main() parses it: with the command's own module only.
    assert build_parser("python -m server", argv[0]).parse_args(argv).handler.__name__ == handler


def test_every_command_of_the_help_parses_alone():
    full = build_parser()
    assert full._subparsers is not None
    words = list(full._subparsers._group_actions[0].choices)  # type: ignore[attr-defined]
    assert "test" in words
    for word in words:
        with pytest.raises(SystemExit) as shown:
            build_parser("python -m server", word).parse_args([word, "--help"])
        assert shown.value.code == 0, word


def test_test_command_arguments():
    args = build_parser().parse_args(["test", "survey", "3", "--export"])
    assert (args.config, args.num_participants) == ("survey", 3)
    assert build_parser().parse_args(["test", "--save", "out"]).export == "out"
    assert build_parser().parse_args(["resetdb", "--noinput"]).yes is True
    create = build_parser().parse_args(["create_session", "survey", "2", "--room", "econ101"])
    assert (create.config, create.num_participants, create.room) == ("survey", 2, "econ101")


def test_test_export_without_a_folder_gets_otrees_temporary_name():
    from datetime import datetime

    from server.cli.bot_commands import automatic_export_folder

    name = automatic_export_folder(datetime(2026, 3, 4, 5, 6, 7, 890000))
    assert name == "__temp_bots_Mar04_05h06m07.8s"


def test_help_and_version_words_as_in_otree(capsys):
    assert main([]) == 0
    assert "startproject" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["help"])
    assert exited.value.code == 0
    assert "devserver" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["version"])
    assert capsys.readouterr().out.startswith("Grove ")


# --- startproject and startapp -----------------------------------------------------------


def test_startproject_writes_otrees_layout(tmp_path, monkeypatch):
    assert _run(monkeypatch, tmp_path, "startproject", "study") == 0
    root = tmp_path / "study"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "Procfile",
        "_rooms/lab.txt",
        "_static/global/styles.css",
        "_templates/global/Page.html",
        "requirements.txt",
        "settings.py",
    ]
    settings = load_settings(root, {})
    assert settings.language_code == "en"
    assert settings.real_world_currency_code == "USD"
    assert settings.session_config_defaults["participation_fee"] == 0
    assert "SESSION_CONFIGS = [" in (root / "settings.py").read_text()
    assert (root / "Procfile").read_text() == "web: otree prodserver\n"
    assert LOCAL_DATABASE in (root / ".gitignore").read_text()
    assert '{{ extends "otree/Page.html" }}' in (root / "_templates/global/Page.html").read_text()


def test_startproject_refuses_an_existing_folder_and_a_project_folder(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "taken").mkdir()
    assert _run(monkeypatch, tmp_path, "startproject", "taken") == 1
    assert "exists already" in capsys.readouterr().err
    (tmp_path / "settings.py").write_text("")
    assert _run(monkeypatch, tmp_path, "startproject", "other") == 1
    assert "is a project already" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


def test_startproject_with_sample_games_copies_grove_samples_as_otree_apps(tmp_path, monkeypatch):
    assert _run(monkeypatch, tmp_path, "startproject", "study", "--sample-games") == 0
    root = tmp_path / "study"
    # No compiled files copied from Grove's apps (before anything here imports the project).
    assert not list(root.rglob("__pycache__"))
    project = load_project(load_settings(root, {}))
    portable = ["survey", "public_goods", "trust", "prisoner", "live_auction", "live_counting"]
    assert list(project.session_configs) == portable
    for name in [*portable, "payment_info"]:
        assert project.apps[name].location == name  # at the project root, as oTree's apps
        for module in (root / name).glob("*.py"):
            assert "from server.api" not in module.read_text(), module
        assert "from otree.api import *" in (root / name / "__init__.py").read_text()
    assert not (root / "trial").exists()  # Grove's urn and shared_out.py: not oTree's
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(root))
    results = run_bots(
        load_settings(root, {}), "trust", database_url=databases.database_url(tmp_path, "b")
    )
    assert [result.ok for result in results] == [True], [result.error for result in results]


def test_startproject_asks_about_sample_games_only_at_a_terminal(tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "y"

    monkeypatch.setattr("builtins.input", answer)
    assert _run(monkeypatch, tmp_path, "startproject", "piped") == 0  # pytest's stdin: no tty
    monkeypatch.setattr("sys.stdin", Terminal())
    assert _run(monkeypatch, tmp_path, "startproject", "quiet", "--noinput") == 0
    assert _run(monkeypatch, tmp_path, "startproject", "without", "--no-sample-games") == 0
    assert asked == []
    assert _run(monkeypatch, tmp_path, "startproject", "asked") == 0
    assert asked == ["Include sample games? (y or n): "]
    assert (tmp_path / "asked" / "trust").is_dir()
    for name in ("piped", "quiet", "without"):
        assert not (tmp_path / name / "trust").exists()


def test_sample_games_need_grove_source_folder(tmp_path, monkeypatch):
    from server.cli import scaffold_commands

    monkeypatch.setattr(scaffold_commands, "sample_games_source", lambda: None)
    with pytest.raises(GroveError, match="come with Grove's source folder"):
        create_project(tmp_path / "study", sample_games=True)
    assert not (tmp_path / "study").exists()


def test_startapp_writes_a_no_self_app(tmp_path, monkeypatch):
    create_project(tmp_path / "study")
    assert _run(monkeypatch, tmp_path / "study", "startapp", "card_game") == 0
    app = tmp_path / "study" / "card_game"
    assert sorted(p.name for p in app.iterdir()) == ["MyPage.html", "Results.html", "__init__.py"]
    source = (app / "__init__.py").read_text()
    assert source.startswith("from otree.api import *\n")
    assert 'NAME_IN_URL = "card_game"' in source
    assert "page_sequence = [MyPage, ResultsWaitPage, Results]" in source
    namespace: dict[str, object] = {}
    exec(compile(source, str(app / "__init__.py"), "exec"), namespace)
    assert namespace["C"].NUM_ROUNDS == 1
    assert namespace["C"].PLAYERS_PER_GROUP is None
    assert issubclass(namespace["ResultsWaitPage"], server.api.WaitPage)
    assert "{{ formfields }}" in (app / "MyPage.html").read_text()
    assert "{{ next_button }}" in (app / "Results.html").read_text()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("9lives", "not a valid app name"),
        ("my-app", "not a valid app name"),
        ("class", "not a valid app name"),
        ("x" * 41, "at most 40 characters"),
        ("random", "existing Python module"),
        ("sqlalchemy", "existing Python module"),
        ("taken", "exists already"),
    ],
)
def test_startapp_refuses_unusable_names(tmp_path, name, message):
    (tmp_path / "taken").mkdir()
    with pytest.raises(GroveError, match=message):
        create_app_folder(tmp_path, name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


# --- zip and unzip -----------------------------------------------------------------------


def test_zip_and_unzip_round_trip_without_local_state(tmp_path, monkeypatch):
    project = tmp_path / "study"
    create_project(project)
    create_app_folder(project, "zip_game")
    leftovers = [
        LOCAL_DATABASE,
        f"{LOCAL_DATABASE}-wal",
        f"{LOCAL_DATABASE}.writelock",  # the write lock Grove keeps beside a SQLite file
        ".grove_secret",
        "zip_game/__pycache__/x.cpython-311.pyc",
        "__temp_bots_Mar04_05h06m07.9s/zip_game.csv",
        ".venv/bin/python",
        "venv/lib/x.py",
        ".git/HEAD",
        "old.otreezip",
        "settings.py~",
    ]
    for relative in leftovers:
        _write(project / relative, "local\n")
    assert _run(monkeypatch, project, "zip") == 0
    archive = project / "study.otreezip"

    with tarfile.open(archive, "r:gz") as tar:  # oTree's format: a gzip-compressed tar
        names = sorted(member.name for member in tar.getmembers() if member.isfile())
    assert names == [
        ".gitignore",
        "Procfile",
        "_rooms/lab.txt",
        "_static/global/styles.css",
        "_templates/global/Page.html",
        "requirements.txt",
        "settings.py",
        "zip_game/MyPage.html",
        "zip_game/Results.html",
        "zip_game/__init__.py",
    ]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "study.otreezip").write_bytes(archive.read_bytes())
    assert _run(monkeypatch, elsewhere, "unzip", "study.otreezip") == 0
    for name in names:
        assert (elsewhere / "study" / name).read_bytes() == (project / name).read_bytes()
    assert not (elsewhere / "study" / LOCAL_DATABASE).exists()


def test_resetdb_without_an_answer_cancels_instead_of_a_traceback(tmp_path, monkeypatch, capsys):
    """``otree resetdb`` with stdin closed (a script, ``< /dev/null``): nothing to confirm, so
    nothing is deleted, with "Cancelled." rather than EOFError's traceback."""
    project = tmp_path / "study"
    create_project(project)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert _run(monkeypatch, project, "resetdb") == 1
    assert "Cancelled." in capsys.readouterr().out


def test_a_database_that_cannot_be_reached_is_one_line_without_the_password(
    tmp_path, monkeypatch, capsys
):
    """PostgreSQL down or a wrong DATABASE_URL (Heroku's scheme, postgres, included): one
    line naming the database, its password hidden, and the driver's reason; no traceback."""
    project = tmp_path / "study"
    create_project(project)
    # A server nobody runs (port 1), not a test database: built from parts, since the suite's
    # rule (tests/test_suite_databases.py) keeps database URLs out of the tests' text.
    scheme = "postgres"
    monkeypatch.setenv("DATABASE_URL", f"{scheme}:" + "//lab:s3cret@127.0.0.1:1/study")
    assert _run(monkeypatch, project, "resetdb", "--noinput") == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: cannot use the database {scheme}:" + "//lab:***@127.0.0.1:1/study: "
    )
    assert "Check DATABASE_URL." in err
    assert "s3cret" not in err
    assert "Traceback" not in err


def test_a_command_outside_a_project_says_where_to_run_it(tmp_path, monkeypatch, capsys):
    assert _run(monkeypatch, tmp_path, "resetdb", "--noinput") == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'settings.py'}: file not found" in err
    assert "Run the command from your project's folder, the one with settings.py" in err


def test_zip_needs_a_project_folder(tmp_path, monkeypatch, capsys):
    assert _run(monkeypatch, tmp_path, "zip") == 1
    assert "holds no settings.py" in capsys.readouterr().err


def _archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def test_unzip_reads_an_archive_made_as_otree_makes_it(tmp_path):
    """oTree adds the project folder itself as the entry '' (``tar.add(path, arcname='')``)."""
    source = tmp_path / "source"
    create_project(source)
    with tarfile.open(tmp_path / "made_by_otree.otreezip", "w:gz") as tar:
        tar.add(source, arcname="")
    unzip_project(tmp_path / "made_by_otree.otreezip", tmp_path / "out")
    assert (tmp_path / "out" / "settings.py").read_bytes() == (source / "settings.py").read_bytes()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (_file("../escaped.py"), "a path leaving the project folder"),
        (_file("app/../../escaped.py"), "a path leaving the project folder"),
        (_file("/tmp/absolute.py"), "an absolute path"),
        (_file("C:\\Windows\\x.py"), "an absolute path"),
        (_link("settings.py", "/etc/passwd", tarfile.SYMTYPE), "a link"),
        (_link("inner", "../..", tarfile.SYMTYPE), "a link"),
        (_link("copy.py", "settings.py", tarfile.LNKTYPE), "a link"),
        (_link("pipe", "", tarfile.FIFOTYPE), "neither a file nor a folder"),
    ],
)
def test_unzip_refuses_entries_that_leave_the_folder_and_writes_nothing(
    tmp_path, monkeypatch, capsys, entry, problem
):
    _archive(tmp_path / "evil.otreezip", [_file("settings.py"), entry])
    assert _run(monkeypatch, tmp_path, "unzip", "evil.otreezip") == 1
    error = capsys.readouterr().err
    assert problem in error
    assert "nothing was unpacked" in error
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "escaped.py").exists()


def test_unzip_refuses_an_existing_folder_a_project_folder_and_a_non_archive(
    tmp_path, monkeypatch, capsys
):
    _archive(tmp_path / "study.otreezip", [_file("settings.py")])
    (tmp_path / "study").mkdir()
    assert _run(monkeypatch, tmp_path, "unzip", "study.otreezip") == 1
    assert "exists already" in capsys.readouterr().err
    (tmp_path / "junk.otreezip").write_bytes(b"not an archive")
    assert _run(monkeypatch, tmp_path, "unzip", "junk.otreezip") == 1
    assert "cannot unpack it" in capsys.readouterr().err
    (tmp_path / "settings.py").write_text("")
    assert _run(monkeypatch, tmp_path, "unzip", "study.otreezip") == 1
    assert "holds a settings.py" in capsys.readouterr().err


def test_zip_project_returns_the_archive_beside_the_settings(tmp_path):
    create_project(tmp_path / "p")
    assert zip_project(tmp_path / "p") == tmp_path / "p" / "p.otreezip"


@pytest.mark.slow  # a subprocess loading Grove: about 3 s
def test_python_dash_m_server_still_runs(tmp_path):
    shown = subprocess.run(
        [sys.executable, "-m", "server", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: python -m server ")
