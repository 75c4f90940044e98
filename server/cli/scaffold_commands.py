"""``startproject NAME`` and ``startapp NAME``: new folders in oTree's layout."""

from __future__ import annotations

import argparse
import importlib.util
import keyword
import shutil
import sys
from pathlib import Path
from typing import Any

import server
from server.cli.skeletons import APP_FILES, PROJECT_FILES, SESSION_CONFIGS_EXAMPLE
from server.config import import_project_file
from server.errors import GroveError

# oTree's longest app name.
MAX_APP_NAME_LENGTH = 40


def write_files(destination: Path, files: dict[str, str]) -> None:
    """Create ``destination`` (which must not exist) holding ``files`` (relative path: text)."""
    destination.mkdir(parents=True)
    for relative, text in files.items():
        path = destination / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def sample_games_source() -> Path | None:
    """Grove's own project (its sample apps and session_configs.py) beside the ``server``
    package: there in a source folder or an editable install, not in an installed wheel."""
    root = Path(server.__file__).resolve().parent.parent
    if (root / "apps").is_dir() and (root / "session_configs.py").is_file():
        return root
    return None


def _portable_configs(source: Path) -> list[dict[str, Any]]:
    """Grove's sample configs that run in any oTree project: not those that need Grove's urn
    or the project's shared_out.py."""
    module = import_project_file(source, "session_configs.py")
    configs = getattr(module, "SESSION_CONFIGS", [])
    return [c for c in configs if "urn" not in c and "mock_exogenous_data" not in c]


def _config_source(config: dict[str, Any]) -> str:
    items = "".join(f"        {key}={value!r},\n" for key, value in config.items())
    return f"    dict(\n{items}    ),\n"


def copy_sample_games(source: Path, destination: Path) -> list[str]:
    """Copy Grove's portable sample apps into the project at ``destination``, importing
    ``otree.api`` as oTree's apps do, and list their configs in its settings.py; return the
    config names."""
    configs = _portable_configs(source)
    app_names = dict.fromkeys(name for c in configs for name in c["app_sequence"])
    for name in app_names:
        target = destination / name
        shutil.copytree(
            source / "apps" / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        for module in target.glob("*.py"):
            text = module.read_text(encoding="utf-8")
            otree_style = text.replace("from server.api import", "from otree.api import")
            module.write_text(otree_style, encoding="utf-8")
    settings_file = destination / "settings.py"
    listed = "SESSION_CONFIGS = [\n" + "".join(_config_source(c) for c in configs) + "]\n"
    text = settings_file.read_text(encoding="utf-8")
    settings_file.write_text(text.replace(SESSION_CONFIGS_EXAMPLE, listed), encoding="utf-8")
    return [c["name"] for c in configs]


def create_project(destination: Path, *, sample_games: bool = False) -> None:
    """Write a new project in oTree's layout to ``destination``, with Grove's sample apps if
    ``sample_games``.

    Raises GroveError if it exists already, or if sample games are asked for and this
    installation has none.
    """
    if destination.exists():
        raise GroveError(f"{destination} exists already: delete it first, or choose another name")
    source = sample_games_source() if sample_games else None
    if sample_games and source is None:
        raise GroveError(
            "the sample games come with Grove's source folder (an editable install, as "
            "scripts/install.sh makes), and this installation has none"
        )
    write_files(destination, PROJECT_FILES)
    if source is not None:
        copy_sample_games(source, destination)


def app_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an app (a Python module at the project root), or None."""
    if not name.isidentifier() or keyword.iskeyword(name):
        return f"{name!r} is not a valid app name: use letters, digits and _ (a Python name)"
    if len(name) > MAX_APP_NAME_LENGTH:
        return f"an app name has at most {MAX_APP_NAME_LENGTH} characters"
    if name in sys.stdlib_module_names or importlib.util.find_spec(name) is not None:
        return f"{name!r} is the name of an existing Python module: choose another name"
    return None


def create_app_folder(project: Path, name: str) -> Path:
    """Write app ``name`` into ``project`` (oTree's layout: a folder at the project root).

    Raises GroveError for an unusable name or an existing folder.
    """
    destination = project / name
    if destination.exists():
        raise GroveError(f"{destination} exists already: delete it first, or choose another name")
    problem = app_name_problem(name)
    if problem:
        raise GroveError(problem)
    files = {path: text.replace("APP_NAME", name) for path, text in APP_FILES.items()}
    write_files(destination, files)
    return destination


def startproject(args: argparse.Namespace) -> int:
    """Create a project folder; refuse inside a project (a settings.py here)."""
    if Path("settings.py").exists():
        raise GroveError(
            "this folder holds a settings.py, so it is a project already: run startproject "
            "where the new project's folder should go"
        )
    sample_games = args.sample_games
    if sample_games is None:  # as oTree, ask at a terminal; elsewhere, no sample games
        sample_games = (
            not args.noinput
            and sys.stdin.isatty()
            and input("Include sample games? (y or n): ").strip().lower().startswith("y")
        )
    create_project(Path(args.name), sample_games=sample_games)
    print(f"Created the project {args.name}. Next: cd {args.name}, then otree devserver.")
    return 0


def startapp(args: argparse.Namespace) -> int:
    """Create an app folder in the project in the current directory."""
    destination = create_app_folder(Path.cwd(), args.name)
    print(
        f"Created the app {destination.name}. Add it to a session config's app_sequence in "
        "settings.py."
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add startproject and startapp."""
    project = subparsers.add_parser(
        "startproject", help="create a project folder in oTree's layout"
    )
    project.add_argument("name")
    project.add_argument(
        "--sample-games",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="include Grove's sample games (default: ask at a terminal, else no)",
    )
    project.add_argument(
        "--noinput", action="store_true", help="ask nothing (as oTree's flag): no sample games"
    )
    project.set_defaults(handler=startproject)

    app = subparsers.add_parser("startapp", help="create an app folder in this project")
    app.add_argument("name")
    app.set_defaults(handler=startapp)
