"""The CSV files ``otree test --export DIR`` writes, named as oTree 6.0.15 names them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from server.data_export.custom import custom_export_names
from server.data_export.service import ExportRequest, open_export
from server.db import Database
from server.project import Project


def write_otree_files(
    database: Database, project: Project, app_names: Iterable[str], folder: Path
) -> list[Path]:
    """Write every session's data in ``database`` to ``folder`` (created if missing) as oTree's
    bots export does: ``<app>.csv`` for each of ``app_names`` (an app of the project),
    ``<app>_custom.csv`` for one with a ``custom_export`` function, then
    ``all_apps_wide.csv``; each in the admin export's CSV (UTF-8, booleans 1/0). Existing
    files of those names are replaced. Returns the paths written, in that order."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = set(app_names)
    files: list[tuple[str, ExportRequest]] = []
    for app_name in project.apps:
        if app_name not in wanted:
            continue
        files.append((f"{app_name}.csv", ExportRequest(table=app_name)))
        if "custom_export" in custom_export_names(project, app_name):
            request = ExportRequest(table=app_name, function="custom_export")
            files.append((f"{app_name}_custom.csv", request))
    files.append(("all_apps_wide.csv", ExportRequest(table="all_apps_wide")))
    written = []
    for name, request in files:
        path = folder / name
        with path.open("wb") as handle:
            for chunk in open_export(database, project, request).chunks:
                handle.write(chunk)
        written.append(path)
    return written
