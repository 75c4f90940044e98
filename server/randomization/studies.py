"""Urn studies on their own, with no Grove session: defined in settings or created by an admin.

A trial that runs elsewhere randomizes its participants over the reference urn API
(``/study_config``, ``/study_participants``). Its study comes from one of three places:

- ``URN_STUDIES`` in settings.py (name -> the same keys as a session config's ``urn``); the
  row is created at first use, with a starting seed from ``secrets`` unless one is given;
- ``create_study`` (the admin API's ``POST studies/`` and ``python -m server urn create``);
- a session config's ``urn`` (``server/randomization/session_urn.py``), as before.

A settings study is read-only here: creating one of its name is a Conflict. Its definition
may change in settings.py until its first assignment; after that the stored, frozen config
wins and the changed one is refused (``service.ensure_study``).

``list_studies`` shows each study's size and treatment totals, never its seed or RNG state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit_log import record_change
from server.db import Database
from server.errors import Conflict, InvalidArguments
from server.models.urn import UrnStudy
from server.randomization.service import (
    StudyNotFound,
    ensure_study,
    get_study,
    parse_config,
)
from server.randomization.urn import UrnConfig, UrnConfigError

# A study name is a label people type: at most this many characters.
MAX_STUDY_NAME_LENGTH = 255

DefinedStudies = Mapping[str, Mapping[str, Any]]

# The urn API's own query parameters (POST /study_participants?api_key=&study=&id=&<factor>=):
# a factor of one of these names could never be given a level there.
RESERVED_FACTOR_NAMES = ("api_key", "study", "id")


@dataclass(frozen=True)
class StudySummary:
    """A study as anyone with read access may see it (no seed, no RNG state).

    ``treatment_totals`` maps each treatment to how many participants have it (imported
    assignments included); ``defined_in`` is ``"settings"`` (URN_STUDIES) or ``"database"``
    (created over the API, the CLI or by a session config); ``created_at`` is None for a
    settings study nobody has used yet.
    """

    name: str
    treatments: list[str]
    factors: dict[str, list[str]]
    num_assigned: int
    treatment_totals: dict[str, int]
    defined_in: str
    created_at: dt.datetime | None


def check_defined_studies(raw: Any) -> dict[str, dict[str, Any]]:
    """settings.py's URN_STUDIES, checked: a dict of study name -> urn configuration.

    Raises ValueError naming the study and the key at fault (load_settings turns it into a
    ConfigurationError).
    """
    if not isinstance(raw, Mapping):
        raise ValueError(f"URN_STUDIES must be a dict of study name -> urn dict, not {raw!r}")
    studies: dict[str, dict[str, Any]] = {}
    for name, config in raw.items():
        try:
            checked_name = check_study_name(name)
        except InvalidArguments as exc:
            raise ValueError(f"URN_STUDIES: {exc}") from None
        if not isinstance(config, Mapping):
            raise ValueError(f"URN_STUDIES[{name!r}] must be a dict (the keys of a config's urn)")
        try:
            # A missing seed is drawn at first use; check the rest now.
            UrnConfig.from_dict({**config, "starting_seed": config.get("starting_seed") or 0})
            check_factor_names(config)
        except (UrnConfigError, InvalidArguments) as exc:
            raise ValueError(f"URN_STUDIES[{name!r}]: {exc}") from None
        studies[checked_name] = dict(config)
    return studies


def check_study_name(name: Any) -> str:
    """A study name: a non-empty string of at most MAX_STUDY_NAME_LENGTH printable characters
    without surrounding whitespace or a slash. Raises InvalidArguments (field ``name``)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidArguments("a study name must be a non-empty string", field="name")
    if name != name.strip() or not name.isprintable():
        raise InvalidArguments(
            f"study name {name!r} has surrounding whitespace or control characters",
            field="name",
        )
    if len(name) > MAX_STUDY_NAME_LENGTH:
        raise InvalidArguments(
            f"a study name has at most {MAX_STUDY_NAME_LENGTH} characters", field="name"
        )
    if "/" in name:
        # The admin API addresses a study as study/<name>/: a slash would split the path.
        raise InvalidArguments(f"study name {name!r} must not contain '/'", field="name")
    return name


def check_factor_names(config: Mapping[str, Any]) -> None:
    """Refuse a factor the urn API could not take a level for (RESERVED_FACTOR_NAMES).
    Raises InvalidArguments (field ``config``)."""
    factors = config.get("factors")
    reserved = [f for f in RESERVED_FACTOR_NAMES if isinstance(factors, Mapping) and f in factors]
    if reserved:
        raise InvalidArguments(
            f"factor {reserved[0]!r} has the name of one of the urn API's own parameters "
            f"({', '.join(RESERVED_FACTOR_NAMES)}): POST /study_participants could never "
            "give it a level; rename it",
            field="config",
        )


def find_study(db: Session, defined: DefinedStudies, name: str) -> UrnStudy | None:
    """The stored study called ``name``; for a settings study not used yet, None.

    Raises StudyNotFound when the name is neither stored nor defined in settings.
    """
    try:
        return get_study(db, name)
    except StudyNotFound:
        if name in defined:
            return None
        raise


def study_for_draw(db: Session, defined: DefinedStudies, name: str) -> UrnStudy:
    """The stored study, created now from settings at its first use (in the caller's unit of
    work, which must be a write). Raises StudyNotFound, StudyConfigFrozen."""
    if name in defined:
        return ensure_study(db, name, defined[name])
    return get_study(db, name)


def unused_config_view(defined: DefinedStudies, name: str) -> dict[str, Any]:
    """The study_config view of a settings study with no row yet (its seed is concealed:
    there is none until the first draw)."""
    raw = defined[name]
    config = parse_config({**raw, "starting_seed": raw.get("starting_seed") or 0}).to_dict()
    config["starting_seed"] = None
    return config


def _summary(study: UrnStudy, defined: DefinedStudies) -> StudySummary:
    treatments = list(study.config["treatments"])
    totals = dict.fromkeys(treatments, 0)
    # Each participant is counted once under each factor: one factor's levels add up to all.
    first_factor: dict[str, list[int]] = next(iter(study.counts.values()), {})
    for counts in first_factor.values():
        for treatment, count in zip(treatments, counts, strict=True):
            totals[treatment] += count
    return StudySummary(
        name=study.name,
        treatments=treatments,
        factors={factor: list(levels) for factor, levels in study.config["factors"].items()},
        num_assigned=study.num_assigned,
        treatment_totals=totals,
        defined_in="settings" if study.name in defined else "database",
        created_at=study.created_at,
    )


def _unused_summary(defined: DefinedStudies, name: str) -> StudySummary:
    config = unused_config_view(defined, name)
    return StudySummary(
        name=name,
        treatments=config["treatments"],
        factors=config["factors"],
        num_assigned=0,
        treatment_totals=dict.fromkeys(config["treatments"], 0),
        defined_in="settings",
        created_at=None,
    )


def list_studies(database: Database, defined: DefinedStudies) -> list[StudySummary]:
    """Every study, stored or defined in settings, by name."""
    with database.read() as db:
        stored = {study.name: study for study in db.scalars(sa.select(UrnStudy))}
        summaries = [_summary(study, defined) for study in stored.values()]
    summaries += [_unused_summary(defined, name) for name in defined if name not in stored]
    return sorted(summaries, key=lambda summary: summary.name)


def study_summary(database: Database, defined: DefinedStudies, name: str) -> StudySummary:
    """One study's summary. Raises StudyNotFound."""
    with database.read() as db:
        study = find_study(db, defined, name)
        return _unused_summary(defined, name) if study is None else _summary(study, defined)


def create_study(
    database: Database, defined: DefinedStudies, name: Any, config: Any, *, who: str
) -> StudySummary:
    """Create a study with an urn ``config`` (a session config's ``urn`` keys; without
    ``starting_seed`` it gets 64 random bits). One unit of work, logged as ``study.create``
    by ``who`` (its treatments and factors, never its seed).

    Raises InvalidArguments (bad name or config, naming the key), Conflict (a study of that
    name exists, or settings.py defines it).
    """
    name = check_study_name(name)
    if name in defined:
        raise Conflict(f"study {name!r} is defined in settings.py (URN_STUDIES): edit it there")
    if not isinstance(config, Mapping):
        raise InvalidArguments("config must be an object with the urn's keys", field="config")
    if "study" in config:
        raise InvalidArguments("config: 'study' is the study's name, given apart", field="config")
    parse_config({**config, "starting_seed": config.get("starting_seed") or 0})
    check_factor_names(config)

    def work(db: Session) -> StudySummary:
        exists = db.scalar(sa.select(UrnStudy.id).where(UrnStudy.name == name))
        if exists is not None:
            raise Conflict(f"a study named {name!r} exists already")
        try:
            summary = _summary(ensure_study(db, name, config), defined)
        except sa.exc.IntegrityError:  # created by a concurrent request meanwhile
            raise Conflict(f"a study named {name!r} exists already") from None
        record_change(
            db,
            who,
            "study.create",
            study=name,
            details={key: config[key] for key in ("treatments", "factors") if key in config},
        )
        return summary

    return database.run(work)
