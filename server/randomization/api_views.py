"""What callers may see of a study: config (seed only for admins), log rows, counts, balance.

No view ever contains an RNG state.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.models.core import ExperimentSession
from server.models.urn import UrnAssignment, UrnStudy
from server.randomization.service import Randomization, StudyNotFound, assignments, get_study
from server.randomization.session_urn import study_name_of

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def conceal_session_config(config: dict[str, Any]) -> dict[str, Any]:
    """A session config safe to show a non-admin: the urn's starting_seed is None."""
    if not isinstance(config.get("urn"), dict):
        return config
    return {**config, "urn": {**config["urn"], "starting_seed": None}}


def study_config_view(study: UrnStudy, *, show_seed: bool) -> dict[str, Any]:
    """The study's configuration; ``starting_seed`` is None unless shown to an admin."""
    config = dict(study.config)
    if not show_seed:
        config["starting_seed"] = None
    return config


def assignment_row(row: UrnAssignment | Randomization) -> dict[str, Any]:
    """One log row, or a draw just made, in the reference API's shape (``f_``-prefixed
    factor columns)."""
    data: dict[str, Any] = {"id": row.participant_key}
    data.update({f"f_{factor}": level for factor, level in row.levels.items()})
    data.update(
        trt=row.treatment,
        datetime=row.created_at.strftime(DATETIME_FORMAT) if row.created_at else None,
        user=row.user,
    )
    return data


def balance_table(study: UrnStudy) -> list[dict[str, Any]]:
    """Per factor level: how many of each treatment."""
    treatments = study.config["treatments"]
    rows = []
    for factor, levels in study.counts.items():
        for level, counts in levels.items():
            row: dict[str, Any] = {"factor": factor, "level": level, "n": sum(counts)}
            row.update(dict(zip(treatments, counts, strict=True)))
            rows.append(row)
    return rows


def urn_state_for_session(
    db: Session, session: ExperimentSession, *, show_seed: bool
) -> dict[str, Any] | None:
    """The urn part of a session's detail: study, config, counts and balance."""
    name = study_name_of(session)
    if name is None:
        return None
    try:
        study = get_study(db, name)
    except StudyNotFound:
        return None
    return {
        "study": study.name,
        "num_assigned": study.num_assigned,
        "config": study_config_view(study, show_seed=show_seed),
        "balance": balance_table(study),
    }


def study_log(db: Session, name: str) -> list[dict[str, Any]]:
    """Every assignment of a study as reference-API rows."""
    return [assignment_row(row) for row in assignments(db, get_study(db, name))]
