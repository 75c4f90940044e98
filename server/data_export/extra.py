"""Each ExtraModel's rows as an export of their own (oTree offers them only through
``custom_export``): ``/api/export/<app>/<ExtraModel>``.

With ``?since=``, the rows whose links lead to a participant whose data changed after the
cursor (``server/change_sequence.py``: writing, changing or deleting a row stamps whom its links
lead to), and the rows whose links lead to no participant (no link set, or only a session's),
which stamp nobody and so come in every pull rather than never.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.data_export.scope import BATCH_SIZE, ExportScope
from server.data_export.tables import Table
from server.extra_model import ExtraModel
from server.model_bases import BaseGroup, BasePlayer, BaseSubsession
from server.models.core import Participant
from server.models.extra_tables import extra_models_of
from server.project import Project


def extra_model_names(project: Project, app_name: str) -> list[str]:
    """The app's ExtraModel classes, by name, in the order the app defines them."""
    return [model.__name__ for model in extra_models_of(project.apps[app_name].module)]


def extra_model_columns(model: type[ExtraModel]) -> list[str]:
    """The export's columns: the session's code, then ``values_dicts``'s (oTree's order: id,
    each field, each link's ``<link>_id``)."""
    return ["session_code", "id", *model._grove_fields, *(f"{n}_id" for n in model._grove_links)]


def extra_model_table(
    db: Session, project: Project, scope: ExportScope, app_name: str, model_name: str
) -> Table:
    """The rows of the app's ExtraModel ``model_name`` in the scope's sessions, by id (rows
    linked to no session's row only in the export of every session)."""
    [model] = [
        m for m in extra_models_of(project.apps[app_name].module) if m.__name__ == model_name
    ]
    return Table(extra_model_columns(model), _rows(db, scope, model))


def _rows(db: Session, scope: ExportScope, model: type[ExtraModel]) -> Iterator[list[Any]]:
    table = sa.inspect(model).local_table
    names = extra_model_columns(model)[1:]
    in_scope = table.c.session_id.in_(scope.session_ids)
    if not scope.filtered:
        in_scope = sa.or_(in_scope, table.c.session_id.is_(None))
    if scope.since is not None:
        in_scope = sa.and_(
            in_scope, changed_rows(model, sa.select(Participant.id).where(scope.since))
        )
    last_id = 0
    while True:
        batch = db.execute(
            sa.select(table.c.session_id, *(table.c[name] for name in names))
            .where(in_scope, table.c.id > last_id)
            .order_by(table.c.id)
            .limit(BATCH_SIZE)
        ).all()
        for session_id, *values in batch:
            session = scope.sessions.get(session_id)
            yield [session.code if session is not None else None, *values]
        if len(batch) < BATCH_SIZE:
            return
        last_id = batch[-1].id


def changed_rows(model: type[ExtraModel], changed: Any) -> Any:
    """The condition on ``model``'s table for a ``?since=`` pull: a row one of whose links
    leads to a participant in ``changed`` (a SELECT of participant ids): a player link to
    their player, a participant link to them, a group or subsession link to a group or
    subsession they play in, a link to another ExtraModel's row that passes this condition;
    or a row none of whose links leads to a participant (see the module docstring)."""
    table = sa.inspect(model).local_table
    leads: list[Any] = []
    empty: list[Any] = []
    for name, link in model._grove_links.items():
        column = table.c[f"{name}_id"]
        target = link.to
        if issubclass(target, Participant):
            leads.append(column.in_(changed))
        elif issubclass(target, (BasePlayer, BaseGroup, BaseSubsession)):
            target_table = sa.inspect(target).local_table
            app_name = target_table.name.rsplit("_", 1)[0]
            key = {BasePlayer: "id", BaseGroup: "group_id", BaseSubsession: "subsession_id"}[
                next(b for b in (BasePlayer, BaseGroup, BaseSubsession) if issubclass(target, b))
            ]
            players = sa.table(f"{app_name}_player", sa.column("participant_id"), sa.column(key))
            leads.append(
                column.in_(sa.select(players.c[key]).where(players.c.participant_id.in_(changed)))
            )
        elif issubclass(target, ExtraModel):
            linked = sa.inspect(target).local_table
            leads.append(column.in_(sa.select(linked.c.id).where(changed_rows(target, changed))))
        else:  # a session: leads to no participant
            continue
        empty.append(column.is_(None))
    if not leads:
        return sa.true()
    return sa.or_(*leads, sa.and_(*empty))
