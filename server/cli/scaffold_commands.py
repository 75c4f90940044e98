"""``startproject NAME`` and ``startapp NAME``: new folders in oTree's layout."""

from __future__ import annotations

import argparse
import importlib.util
import keyword
import sys
from pathlib import Path

from server.cli.skeletons import APP_FILES, PROJECT_FILES
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


def create_project(destination: Path) -> None:
    """Write a new project in oTree's layout to ``destination``.

    Raises GroveError if it exists already.
    """
    if destination.exists():
        raise GroveError(f"{destination} exists already: delete it first, or choose another name")
    write_files(destination, PROJECT_FILES)


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
    create_project(Path(args.name))
    print(f"Created the project {args.name}. Next: cd {args.name}, then otree startapp NAME.")
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
    # oTree's flag for "ask nothing"; Grove asks nothing anyway
    project.add_argument("--noinput", action="store_true", help=argparse.SUPPRESS)
    project.set_defaults(handler=startproject)

    app = subparsers.add_parser("startapp", help="create an app folder in this project")
    app.add_argument("name")
    app.set_defaults(handler=startapp)
