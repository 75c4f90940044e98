"""``zip`` and ``unzip``: a project as one ``.otreezip`` file, the format oTree uses (a
gzip-compressed tar of the project folder's contents, paths relative to the folder)."""

from __future__ import annotations

import argparse
import fnmatch
import tarfile
from pathlib import Path, PurePosixPath

from server.errors import GroveError

SUFFIX = ".otreezip"
# What an archive leaves out, matched against each file's or folder's name: environments,
# caches, the local database and secret key, bot exports (oTree's __temp folders), archives.
EXCLUDED_NAMES = (
    ".git",
    "venv",
    ".venv",
    "__pycache__",
    ".idea",
    ".DS_Store",
    ".env",
    "_static_root",
    "staticfiles",
    "db.sqlite3",
    "*.sqlite3",
    "*.sqlite3-wal",
    "*.sqlite3-shm",
    "*.sqlite3.writelock",
    ".grove_secret",
    ".grove_secret.*",
    "__temp*",
    "*.py[cod]",
    "*.otreezip",
    "*~",
)


def is_excluded(name: str) -> bool:
    """Whether a file or folder called ``name`` stays out of an archive."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in EXCLUDED_NAMES)


def _archive_filter(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if is_excluded(PurePosixPath(member.name).name):
        return None
    if not (member.isfile() or member.isdir()):
        return None  # a link would be refused by unzip
    member.mode |= 0o200  # the owner can delete what unzip writes
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member


def zip_project(project: Path) -> Path:
    """Write ``<folder name>.otreezip`` of ``project`` into ``project``; return its path.

    Raises GroveError if ``project`` holds no settings.py.
    """
    project = project.resolve()
    if not (project / "settings.py").is_file():
        raise GroveError(f"{project} holds no settings.py: run zip from your project's folder")
    archive = project / f"{project.name}{SUFFIX}"
    partial = archive.with_name(f"__temp_{archive.name}")
    with tarfile.open(partial, "w:gz") as tar:
        for child in sorted(project.iterdir()):
            tar.add(child, arcname=child.name, filter=_archive_filter)
    partial.replace(archive)
    return archive


def unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` may not be unpacked (a path leaving the folder, a link, a device), or
    None for a plain file or folder inside it."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or "\\" in member.name or (path.parts and ":" in path.parts[0]):
        return "an absolute path"
    if ".." in path.parts:
        return "a path leaving the project folder"
    if member.issym() or member.islnk():
        return "a link"
    if not (member.isfile() or member.isdir()):
        return "neither a file nor a folder"
    return None


def unzip_project(archive: Path, destination: Path) -> None:
    """Unpack ``archive`` into the new folder ``destination``.

    Raises GroveError if ``destination`` exists, the file is not an archive, or any entry is
    unsafe (then nothing is written).
    """
    if destination.exists():
        raise GroveError(f"{destination} exists already: delete it first, or unzip elsewhere")
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                problem = unsafe_member(member)
                if problem:
                    raise GroveError(
                        f"{archive}: refused, its entry {member.name!r} is {problem}; "
                        "nothing was unpacked"
                    )
            destination.mkdir(parents=True)
            # Python's own checks too, where it has them (3.11.4 and later)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(destination, members=members, filter="data")
            else:  # pragma: no cover
                tar.extractall(destination, members=members)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise GroveError(f"{archive}: cannot unpack it ({exc})") from exc


def zip_command(args: argparse.Namespace) -> int:
    """Archive the project in the current directory."""
    archive = zip_project(Path.cwd())
    print(f"Saved the project in {archive.name}")
    return 0


def unzip_command(args: argparse.Namespace) -> int:
    """Unpack an archive into a new folder named after it, here."""
    archive = Path(args.file)
    if Path("settings.py").exists():
        raise GroveError(
            "this folder holds a settings.py, so it is a project: unzip where the project's "
            "folder should go"
        )
    destination = Path(archive.stem)
    unzip_project(archive, destination)
    print(f"Unpacked the project into {destination}. Next: cd {destination}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add zip and unzip."""
    zip_parser = subparsers.add_parser(
        "zip", help=f"save the project in this folder as one {SUFFIX} file"
    )
    zip_parser.set_defaults(handler=zip_command)
    unzip_parser = subparsers.add_parser(
        "unzip", help=f"unpack a {SUFFIX} file into a new project folder"
    )
    unzip_parser.add_argument("file", metavar=f"FILE{SUFFIX}")
    unzip_parser.set_defaults(handler=unzip_command)
