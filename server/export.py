"""Data export: one CSV per app with every player row, its participant and its group."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.csv_cells import spreadsheet_row
from server.models.core import Participant, declared_field_value
from server.project import Project
from server.sessions import get_session
from server.typed_json import plain


def export_cell(value: Any) -> Any:
    """A stored value as a CSV cell: numbers and text as they are, anything else as the
    documented JSON form (``server/typed_json.py``)."""
    shown = plain(value)
    if isinstance(shown, list | dict):
        return json.dumps(shown, ensure_ascii=False)
    return "" if shown is None else shown


def export_session(db: Session, project: Project, session_code: str, folder: Path) -> list[Path]:
    """Write ``<config>_<app>.csv`` for each app of the session; return the paths.

    Text that a spreadsheet would run as a formula is written with a leading apostrophe
    (``server/csv_cells.py``)."""
    session = get_session(db, session_code)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    participant_fields = list(project.settings.participant_fields)
    for app_name in session.config["app_sequence"]:
        app = project.apps[app_name]
        player_cls, group_cls = app.player_cls, app.group_cls
        player_fields = list(app.fields["player"])
        group_fields = list(app.fields["group"])
        rows = db.execute(
            sa.select(Participant, player_cls, group_cls)
            .join(player_cls, player_cls.participant_id == Participant.id)
            .join(group_cls, group_cls.id == player_cls.group_id)
            .where(player_cls.session_id == session.id)
            .order_by(player_cls.round_number, Participant.id_in_session)
        ).all()
        path = folder / f"{session.config_name}_{app_name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                [
                    "session.code",
                    "participant.code",
                    "participant.label",
                    "participant.id_in_session",
                    *[f"participant.{f}" for f in participant_fields],
                    "round_number",
                    "group.id_in_subsession",
                    "player.id_in_group",
                    "player.payoff",
                    *[f"player.{f}" for f in player_fields],
                    *[f"group.{f}" for f in group_fields],
                ]
            )
            for participant, player, group in rows:
                writer.writerow(
                    spreadsheet_row(
                        [
                            session.code,
                            participant.code,
                            participant.label or "",
                            participant.id_in_session,
                            *[
                                export_cell(declared_field_value(participant, f))
                                for f in participant_fields
                            ],
                            player.round_number,
                            group.id_in_subsession,
                            player.id_in_group,
                            float(player.payoff),
                            *[_cell(getattr(player, f)) for f in player_fields],
                            *[_cell(getattr(group, f)) for f in group_fields],
                        ]
                    )
                )
        written.append(path)
    return written


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return float(value)
    return value
