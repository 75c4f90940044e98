"""An app's ``custom_export(players)`` (and ``custom_export_<name>``), as oTree runs them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from server.data_export.scope import BATCH_SIZE, ExportScope
from server.data_export.tables import Table
from server.db import in_unit
from server.errors import InvalidArguments
from server.models.core import Participant
from server.project import Project


def custom_export_names(project: Project, app_name: str) -> list[str]:
    """The app's export functions: module-level callables named ``custom_export*``."""
    module = project.apps[app_name].module
    return sorted(
        name
        for name in vars(module)
        if name.startswith("custom_export") and callable(getattr(module, name))
    )


class Players:
    """The ``players`` a custom export receives: the app's players by id (of one session with a
    session filter), loaded BATCH_SIZE at a time with their participant, group, subsession and
    session, so a large study is never in memory at once. Iterable (more than once) and with a
    ``len()``; oTree passes a list of the same players in the same order."""

    def __init__(self, db: Session, project: Project, scope: ExportScope, app_name: str) -> None:
        self._db = db
        self._scope = scope
        self._player_cls = project.apps[app_name].player_cls

    def _query(self) -> Any:
        player = self._player_cls
        query = sa.select(player).where(player.session_id.in_(self._scope.session_ids))
        if self._scope.since is not None:
            query = query.where(
                player.participant_id.in_(sa.select(Participant.id).where(self._scope.since))
            )
        return query

    def __len__(self) -> int:
        subquery = self._query().subquery()
        return int(self._db.scalar(sa.select(sa.func.count()).select_from(subquery)) or 0)

    def __iter__(self) -> Iterator[Any]:
        player = self._player_cls
        last_id = 0
        while self._scope.sessions:
            batch = list(
                self._db.scalars(
                    self._query()
                    .where(player.id > last_id)
                    .order_by(player.id)
                    .limit(BATCH_SIZE)
                    .options(
                        selectinload(player.participant),
                        selectinload(player.group),
                        selectinload(player.subsession),
                        selectinload(player.session),
                    )
                )
            )
            yield from batch
            if len(batch) < BATCH_SIZE:
                return
            last_id = batch[-1].id
            # Rows with vars are kept for the unit of work (server/models/base.py); an export
            # writes nothing, so each batch is let go once it has been read.
            self._db.info.pop("grove_json_rows", None)
            self._db.expunge_all()


def custom_table(
    db: Session, project: Project, scope: ExportScope, app_name: str, function_name: str
) -> Table:
    """The rows ``function_name(players)`` yields; the first is the header (oTree's rule).

    Raises InvalidArguments when the app has no such function.
    """
    if function_name not in custom_export_names(project, app_name):
        raise InvalidArguments(
            f"app {app_name!r} has no function {function_name!r} (its custom exports: "
            f"{', '.join(custom_export_names(project, app_name)) or 'none'})",
            field="function",
        )
    function = getattr(project.apps[app_name].module, function_name)
    rows = _in_unit(db, iter(function(Players(db, project, scope, app_name))))
    header = next(rows, None)
    columns = [str(name) for name in header] if header is not None else []
    return Table(columns, (list(row) for row in rows))


def _in_unit(db: Session, rows: Iterator[Any]) -> Iterator[Any]:
    """The function's rows, each produced with ``db`` as the current unit of work: an
    ExtraModel's ``Trial.filter()`` (no row to ask) reads this export's snapshot, though a
    streamed answer asks for each chunk from another context."""
    end = object()
    while True:
        with in_unit(db):
            row = next(rows, end)
        if row is end:
            return
        yield row
