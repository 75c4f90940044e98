"""The urn as a service of the session: load, lock, draw, save and audit, in one transaction.

A study's state row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write
transaction lock otherwise) for every draw, so concurrent randomizations across workers are
applied one after another and give exactly the sequence a replay in order gives. The cost of
a draw depends on the number of urns, never on the length of the history.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from server.db import insert_for_dialect
from server.errors import GroveError, InvalidArguments, NotFound
from server.models.core import utcnow
from server.models.urn import UrnAssignment, UrnStudy
from server.randomization.urn import (
    Counts,
    InvalidLevels,
    RngState,
    UrnConfig,
    UrnConfigError,
    assign,
    check_levels,
    count_assignment,
    empty_counts,
    initial_rng_state,
)


class StudyNotFound(NotFound):
    """No urn study has this name."""


class DuplicateParticipant(InvalidArguments):
    """This id has already been randomized in the study."""


class StudyConfigFrozen(GroveError):
    """The study already has assignments; its configuration can no longer change."""


@dataclass(frozen=True)
class Randomization:
    """A stored assignment, as callers see it (no RNG state)."""

    study: str
    participant_key: str
    treatment: str
    sequence: int
    levels: dict[str, str]
    user: str | None
    created_at: Any
    is_new: bool


def rng_state_to_json(state: RngState) -> dict[str, Any]:
    """PCG64's 128-bit integers as strings, so every database keeps them exactly."""
    return {
        "bit_generator": state["bit_generator"],
        "state": {key: str(value) for key, value in state["state"].items()},
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def rng_state_from_json(data: Mapping[str, Any]) -> RngState:
    """The inverse of :func:`rng_state_to_json`."""
    return {
        "bit_generator": data["bit_generator"],
        "state": {key: int(value) for key, value in data["state"].items()},
        "has_uint32": int(data["has_uint32"]),
        "uinteger": int(data["uinteger"]),
    }


def counts_to_json(counts: Counts) -> dict[str, dict[str, list[int]]]:
    """Counts keyed factor -> level -> per-treatment list."""
    nested: dict[str, dict[str, list[int]]] = {}
    for (factor, level), values in counts.items():
        nested.setdefault(factor, {})[level] = list(values)
    return nested


def counts_from_json(data: Mapping[str, Mapping[str, list[int]]]) -> Counts:
    """The inverse of :func:`counts_to_json`."""
    return {
        (factor, level): list(values)
        for factor, levels in data.items()
        for level, values in levels.items()
    }


def parse_config(raw: Mapping[str, Any]) -> UrnConfig:
    """Validate a config; UrnConfigError becomes InvalidArguments naming the problem."""
    try:
        return UrnConfig.from_dict(raw)
    except UrnConfigError as exc:
        raise InvalidArguments(str(exc), field="urn") from exc


def get_study(db: Session, name: str, *, for_update: bool = False) -> UrnStudy:
    """The study called ``name``; StudyNotFound if there is none.

    ``for_update`` locks the row and reads it afresh: a study loaded earlier in the unit of
    work (to resolve its name) would otherwise keep the counts and RNG state from before the
    lock, and two draws on PostgreSQL would take the same sequence number.
    """
    query = sa.select(UrnStudy).where(UrnStudy.name == name)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    study = db.scalars(query).first()
    if study is None:
        raise StudyNotFound(f"no study named {name!r}")
    return study


def random_seed() -> int:
    """A starting seed nobody can guess: 64 bits from ``secrets``."""
    return secrets.randbits(64)


def ensure_study(db: Session, name: str, raw_config: Mapping[str, Any]) -> UrnStudy:
    """The study, created on first use; a config change after the first draw is refused.

    A config without ``starting_seed`` gets a random one (:func:`random_seed`) when the study is
    created, and keeps the study's seed afterwards (so every session of one study agrees).
    Raises InvalidArguments for an invalid config, StudyConfigFrozen as said.

    Two first users at once (sites randomizing in a settings study, two sessions of a named
    study created together) make one row: the INSERT yields to the other's (ON CONFLICT on the
    unique name, waiting for it to commit on PostgreSQL), and the one whose row lost reads the
    stored study, its seed included, as a later user does.
    """
    locked = (
        sa.select(UrnStudy)
        .where(UrnStudy.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    study = db.scalars(locked).first()
    if study is None:
        first = _with_seed(raw_config, random_seed())
        config = parse_config(first)
        created = db.execute(
            insert_for_dialect(db.get_bind().dialect.name, UrnStudy)
            .values(
                name=name,
                config=config.to_dict(),
                counts=counts_to_json(empty_counts(config)),
                rng_state=rng_state_to_json(initial_rng_state(config)),
                num_assigned=0,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(UrnStudy.id)
        ).first()
        study = db.scalars(locked).one()
        if created is not None:
            return study
    config = parse_config(_with_seed(raw_config, study.config["starting_seed"]))
    if study.config != config.to_dict():
        if study.num_assigned:
            raise StudyConfigFrozen(
                f"study {name!r} already has {study.num_assigned} assignment(s): its urn "
                "configuration is frozen and the session config's new one is refused"
            )
        study.config = config.to_dict()
        study.counts = counts_to_json(empty_counts(config))
        study.rng_state = rng_state_to_json(initial_rng_state(config))
    return study


def _with_seed(raw_config: Mapping[str, Any], seed: int) -> Mapping[str, Any]:
    """``raw_config`` with ``seed`` as its starting seed when it names none (else as it is)."""
    if isinstance(raw_config, Mapping) and raw_config.get("starting_seed") is None:
        return {**raw_config, "starting_seed": seed}
    return raw_config


# Parsed configurations by their stored JSON text: a study's draws parse it once per process.
# The text is the key, so a configuration changed before the first draw (ensure_study) is
# parsed afresh, and no study ever gets another's. Cleared when it grows past the bound.
_PARSED_CONFIGS: dict[str, UrnConfig] = {}
_PARSED_CONFIGS_BOUND = 1024


def stored_config(text: str) -> UrnConfig:
    """The configuration stored as the JSON ``text`` (a study's ``config`` column), parsed
    once per process. Raises UrnConfigError for an invalid one (never stored)."""
    config = _PARSED_CONFIGS.get(text)
    if config is None:
        config = UrnConfig.from_dict(json.loads(text))
        if len(_PARSED_CONFIGS) >= _PARSED_CONFIGS_BOUND:
            _PARSED_CONFIGS.clear()
        _PARSED_CONFIGS[text] = config
    return config


_STUDY = cast(sa.Table, UrnStudy.__table__)
_ASSIGNMENT = cast(sa.Table, UrnAssignment.__table__)
# The draw's statements, built once (Core, no ORM object): the study's state as a plain row,
# locked (FOR UPDATE on PostgreSQL) and read afresh; its config as the stored JSON text, the
# key of the parsed configuration's cache.
_LOCK_STATE = (
    sa.select(
        _STUDY.c.id,
        _STUDY.c.name,
        sa.cast(_STUDY.c.config, sa.Text),
        _STUDY.c.counts,
        _STUDY.c.rng_state,
        _STUDY.c.num_assigned,
    )
    .where(_STUDY.c.name == sa.bindparam("name"))
    .with_for_update()
)
# An id's earlier assignment (read when this draw was not logged, or its levels are invalid).
_EXISTING = sa.select(
    _ASSIGNMENT.c.participant_key,
    _ASSIGNMENT.c.treatment,
    _ASSIGNMENT.c.sequence,
    _ASSIGNMENT.c.levels,
    _ASSIGNMENT.c.user,
    _ASSIGNMENT.c.created_at,
).where(
    _ASSIGNMENT.c.study_id == sa.bindparam("study_id"),
    _ASSIGNMENT.c.participant_key == sa.bindparam("key"),
)
_SAVE_STATE = (
    _STUDY.update()
    .where(_STUDY.c.id == sa.bindparam("study_id"))
    .values(
        counts=sa.bindparam("counts"),
        rng_state=sa.bindparam("rng_state"),
        num_assigned=sa.bindparam("num_assigned"),
    )
)


@cache
def _log_unless_drawn(dialect_name: str) -> sa.Insert:
    """The log's INSERT, which adds nothing when the study has drawn this id before: ON
    CONFLICT (study_id, participant_key) DO NOTHING, in SQLite's or PostgreSQL's words, the
    two databases Grove runs on; it returns the new row's id (RETURNING, as Grove's other
    writes use on both), so no row back means the id was drawn before (the row count says
    nothing on PostgreSQL, where SQLAlchemy reads it as -1). Built at a dialect's first
    draw, so a process that never draws does not import PostgreSQL's dialect."""
    statement: Any = insert_for_dialect(dialect_name, _ASSIGNMENT)
    return cast(
        sa.Insert,
        statement.on_conflict_do_nothing(
            index_elements=[_ASSIGNMENT.c.study_id, _ASSIGNMENT.c.participant_key]
        ).returning(_ASSIGNMENT.c.id),
    )


def _drawn_before(
    connection: sa.Connection, study_id: int, name: str, key: str, *, allow_existing: bool
) -> Randomization | None:
    """The id's assignment in the study, if it has one: returned with ``allow_existing``,
    else DuplicateParticipant; None when the id is new."""
    found = connection.execute(_EXISTING, {"study_id": study_id, "key": key}).first()
    if found is None:
        return None
    if not allow_existing:
        raise DuplicateParticipant(
            f"id {key!r} has already been randomized in study {name!r}", field="id"
        )
    return Randomization(
        study=name,
        participant_key=found.participant_key,
        treatment=found.treatment,
        sequence=found.sequence,
        levels=dict(found.levels),
        user=found.user,
        created_at=found.created_at,
        is_new=False,
    )


def randomize(
    db: Session,
    study_name: str,
    participant_key: str,
    levels: Mapping[str, Any],
    *,
    user: str | None = None,
    participant_id: int | None = None,
    allow_existing: bool = False,
) -> Randomization:
    """Assign a treatment to ``participant_key`` in the study and log it.

    With ``allow_existing`` a second call for the same key returns the first assignment;
    otherwise it raises DuplicateParticipant. Raises StudyNotFound, InvalidArguments.
    """
    if not isinstance(participant_key, str) or not participant_key:
        raise InvalidArguments("id must be a non-empty string", field="id")
    if len(participant_key) > 255:
        raise InvalidArguments(
            f"id may be at most 255 characters, not {len(participant_key)}", field="id"
        )
    # A study this unit of work created or reconfigured through the ORM is written first.
    db.flush()
    connection = db.connection()
    state = connection.execute(_LOCK_STATE, {"name": study_name}).first()
    if state is None:
        raise StudyNotFound(f"no study named {study_name!r}")
    study_id, name, config_text, stored_counts, state_before, num_assigned = state
    config = stored_config(config_text)
    try:
        clean = check_levels(config, levels)
    except InvalidLevels as exc:
        # An id drawn before is answered as such, whatever levels come with it now.
        existing = _drawn_before(
            connection, study_id, name, participant_key, allow_existing=allow_existing
        )
        if existing is not None:
            return existing
        raise InvalidArguments(str(exc), field=exc.factor) from exc
    counts = counts_from_json(stored_counts)
    result = assign(config, counts, rng_state_from_json(state_before), clean)
    sequence = num_assigned + 1
    created_at = utcnow()
    # Logged first, and only if the id is new (the unique key decides, in the same statement
    # on both databases); then the state is saved. The statement runs after the lock: on
    # PostgreSQL it sees the same id drawn by the lock's holder, which a subquery of the
    # locking SELECT (its snapshot from before the wait) would miss.
    logged = connection.execute(
        _log_unless_drawn(connection.dialect.name),
        {
            "study_id": study_id,
            "sequence": sequence,
            "participant_key": participant_key,
            "participant_id": participant_id,
            "levels": clean,
            "treatment": result.treatment,
            "treatment_index": result.treatment_index,
            "user": user,
            "rng_state_before": state_before,
            "imported": False,
            "created_at": created_at,
        },
    )
    if logged.first() is None:
        # Drawn before: this draw is dropped, the study's counts and RNG state stay.
        existing = _drawn_before(
            connection, study_id, name, participant_key, allow_existing=allow_existing
        )
        assert existing is not None, "ON CONFLICT DO NOTHING skipped a row that is not there"
        return existing
    connection.execute(
        _SAVE_STATE,
        {
            "study_id": study_id,
            "counts": counts_to_json(count_assignment(counts, clean, result.treatment_index)),
            "rng_state": rng_state_to_json(result.rng_state_after),
            "num_assigned": sequence,
        },
    )
    # A study object this unit of work loaded earlier no longer shows the stored state. (The
    # API's draws load no ORM object at all: an empty identity map needs no key built.)
    loaded = db.identity_map.get(identity_key(UrnStudy, study_id)) if db.identity_map else None
    if loaded is not None:
        db.expire(loaded)
    return Randomization(
        study=name,
        participant_key=participant_key,
        treatment=result.treatment,
        sequence=sequence,
        levels=clean,
        user=user,
        created_at=created_at,
        is_new=True,
    )


def assignments(db: Session, study: UrnStudy) -> list[UrnAssignment]:
    """The study's log in sequence order."""
    return list(
        db.scalars(
            sa.select(UrnAssignment)
            .where(UrnAssignment.study_id == study.id)
            .order_by(UrnAssignment.sequence)
        )
    )


def verify(db: Session, study_name: str) -> list[str]:
    """Replay the whole history from the seed; return every divergence found (none: [])."""
    study = get_study(db, study_name)
    config = UrnConfig.from_dict(study.config)
    counts = empty_counts(config)
    state = initial_rng_state(config)
    problems: list[str] = []
    for row in assignments(db, study):
        if row.imported:
            counts = count_assignment(counts, row.levels, row.treatment_index)
            continue
        if rng_state_from_json(row.rng_state_before) != state:
            problems.append(f"#{row.sequence} {row.participant_key}: RNG state before differs")
        result = assign(config, counts, state, row.levels)
        if result.treatment != row.treatment:
            problems.append(
                f"#{row.sequence} {row.participant_key}: stored {row.treatment!r}, "
                f"replay gives {result.treatment!r}"
            )
        counts = count_assignment(counts, row.levels, row.treatment_index)
        state = result.rng_state_after
    if counts_to_json(counts) != study.counts:
        problems.append("stored urn counts differ from the history")
    if rng_state_to_json(state) != study.rng_state:
        problems.append("stored RNG state differs from the replayed one")
    return problems
