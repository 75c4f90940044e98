"""``/static/``: the project's ``_static/`` folder, then each app's ``static/`` folder.

oTree's lookup: ``{{ static "my_app/img.png" }}`` is ``_static/my_app/img.png`` or, failing
that, ``my_app/static/my_app/img.png``. A request's path is resolved (symlinks too) and must
stay inside the folder it is served from, so ``..`` or a link cannot reach other files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from starlette.staticfiles import StaticFiles


class ProjectStaticFiles(StaticFiles):
    """Starlette's static files over several folders, first match wins."""

    def __init__(self, directories: list[Path]) -> None:
        super().__init__(directory=None, check_dir=False, follow_symlink=False)
        self.all_directories = [str(directory) for directory in directories]


def static_directories(root: Path, app_directories: Iterable[Path]) -> list[Path]:
    """The folders ``/static/`` serves from, in lookup order (the existing ones only)."""
    candidates = [root / "_static", *(directory / "static" for directory in app_directories)]
    return [candidate.resolve() for candidate in candidates if candidate.is_dir()]
