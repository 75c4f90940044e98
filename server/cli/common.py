"""What every command needs: the project's settings, project and database."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from server.config import Settings, load_settings
from server.db import Database
from server.errors import GroveError
from server.project import Project, load_project
from server.sessions import database_info


@dataclass
class CommandContext:
    """Settings, project and database of the project in the current directory."""

    settings: Settings
    project: Project
    db: Database


def project_root() -> Path:
    """The project root: GROVE_PROJECT_ROOT or the current directory."""
    return Path(os.environ.get("GROVE_PROJECT_ROOT", Path.cwd())).resolve()


def load_context(*, prepare: bool = True) -> CommandContext:
    """Load settings and project; create missing tables unless ``prepare`` is False."""
    from server.currency import configure_currency_from
    from server.schema import prepare_database

    settings = load_settings(project_root(), os.environ)
    configure_currency_from(settings)
    project = load_project(settings)
    db = Database(
        settings.database_url,
        info=database_info(project),
        lock_timeout=settings.db_lock_timeout_seconds,
    )
    if prepare:
        prepare_database(db, project)
    return CommandContext(settings=settings, project=project, db=db)


def fail(message: str) -> int:
    """Print an error to stderr and return the exit status 1."""
    print(f"error: {message}", file=sys.stderr)
    return 1


__all__ = ["CommandContext", "GroveError", "fail", "load_context", "project_root"]
