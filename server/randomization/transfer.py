"""Import of a history started elsewhere, export of the log, counts and balance, and
simulation of a design before a study starts."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from server.csv_cells import from_spreadsheet_cell, spreadsheet_cell
from server.errors import InvalidArguments
from server.models.urn import UrnAssignment
from server.randomization.api_views import balance_table
from server.randomization.service import (
    assignments,
    counts_from_json,
    counts_to_json,
    get_study,
)
from server.randomization.urn import (
    InvalidLevels,
    UrnConfig,
    check_levels,
    count_assignment,
    replay,
)


def import_history(db: Session, study_name: str, rows: Iterable[dict[str, str]]) -> int:
    """Append assignments made elsewhere (id, factor levels, trt, datetime, user).

    Factor columns may be named ``factor`` or ``f_factor``. The rows are counted in the urns
    so the study continues balanced; the RNG chain continues from the study's current state.
    Raises InvalidArguments naming the row and column on any bad value (nothing is written).
    """
    study = get_study(db, study_name, for_update=True)
    config = UrnConfig.from_dict(study.config)
    counts = counts_from_json(study.counts)
    known = {row.participant_key for row in assignments(db, study)}
    added = 0
    for number, written in enumerate(rows, start=2):
        row = {
            name: from_spreadsheet_cell(value) if isinstance(value, str) else value
            for name, value in written.items()
        }
        key = (row.get("id") or "").strip()
        if not key:
            raise InvalidArguments(f"line {number}: missing id", field="id")
        if key in known:
            raise InvalidArguments(f"line {number}: id {key!r} is already in the study", "id")
        levels = {f: row.get(f, row.get(f"f_{f}")) for f in config.factors}
        try:
            clean = check_levels(config, levels)
        except InvalidLevels as exc:
            raise InvalidArguments(f"line {number}: {exc}", field=exc.factor) from exc
        treatment = row.get("trt")
        if treatment not in config.treatments:
            raise InvalidArguments(f"line {number}: unknown treatment {treatment!r}", "trt")
        index = config.treatments.index(treatment)
        counts = count_assignment(counts, clean, index)
        study.num_assigned += 1
        db.add(
            UrnAssignment(
                study_id=study.id,
                sequence=study.num_assigned,
                participant_key=key,
                levels=clean,
                treatment=treatment,
                treatment_index=index,
                user=row.get("user") or None,
                rng_state_before=study.rng_state,
                imported=True,
            )
        )
        known.add(key)
        added += 1
    study.counts = counts_to_json(counts)
    db.flush()
    return added


def export_history(db: Session, study_name: str) -> dict[str, Any]:
    """The admin export: config with seed, every assignment with its RNG state, counts, balance."""
    study = get_study(db, study_name)
    return {
        "study": study.name,
        "config": study.config,
        "num_assigned": study.num_assigned,
        "assignments": [
            {
                "sequence": row.sequence,
                "id": row.participant_key,
                **{f"f_{factor}": level for factor, level in row.levels.items()},
                "trt": row.treatment,
                "datetime": row.created_at.isoformat() if row.created_at else None,
                "user": row.user,
                "imported": row.imported,
                "rng_state_before": row.rng_state_before,
            }
            for row in assignments(db, study)
        ],
        "counts": study.counts,
        "balance": balance_table(study),
    }


def history_csv(export: dict[str, Any]) -> str:
    """The assignment log of an export as CSV (RNG state as JSON text); text a spreadsheet
    would run as a formula gets a leading apostrophe, which ``import_history`` removes."""
    import json

    rows = export["assignments"]
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            cells = {**row, "rng_state_before": json.dumps(row["rng_state_before"])}
            writer.writerow({name: spreadsheet_cell(value) for name, value in cells.items()})
    return buffer.getvalue()


def simulate(
    config: UrnConfig, participants: int, runs: int, seed: int = 0
) -> list[dict[str, Any]]:
    """Expected imbalance per factor level: mean over runs of (max - min) treatment counts,
    with participants' levels drawn uniformly at random."""
    chooser = random.Random(seed)
    totals: dict[tuple[str, str], float] = {}
    for run in range(runs):
        run_config = UrnConfig(**{**config.__dict__, "starting_seed": config.starting_seed + run})
        people = [
            (str(i), {f: chooser.choice(levels) for f, levels in config.factors.items()})
            for i in range(participants)
        ]
        results = replay(run_config, people)
        counts: dict[tuple[str, str], list[int]] = {
            (f, level): [0] * len(config.treatments)
            for f, levels in config.factors.items()
            for level in levels
        }
        for (_, levels), result in zip(people, results, strict=True):
            for factor, level in levels.items():
                counts[(factor, level)][result.treatment_index] += 1
        for key, values in counts.items():
            totals[key] = totals.get(key, 0.0) + (max(values) - min(values))
    return [
        {"factor": factor, "level": level, "mean_imbalance": totals[(factor, level)] / runs}
        for factor, levels in config.factors.items()
        for level in levels
    ]
