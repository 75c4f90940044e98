"""Which sessions and participants an export covers, and the columns oTree gives them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.currency import Currency
from server.errors import SessionNotFound
from server.models.core import ExperimentSession, Participant
from server.project import Project

# Participants (or players) read per query: memory stays bounded whatever the session size.
BATCH_SIZE = 500

# oTree's participant columns (``_get_table_fields(Participant, for_export=True)``).
PARTICIPANT_COLUMNS = (
    "id_in_session",
    "code",
    "label",
    "_is_bot",
    "_index_in_pages",
    "_max_page_index",
    "_current_app_name",
    "_current_page_name",
    "time_started_utc",
    "visited",
    "mturk_worker_id",
    "mturk_assignment_id",
    "payoff",
)
# oTree's session columns; ``comment`` is the admin's description of the session.
SESSION_COLUMNS = ("code", "label", "mturk_HITId", "mturk_HITGroupId", "comment", "is_demo")
# Config keys oTree leaves out of ``session.config.*`` (everything not editable on its form).
NOT_EDITABLE_CONFIG_KEYS = frozenset(
    {"name", "display_name", "app_sequence", "doc", "num_demo_participants", "mturk_hit_settings"}
)


@dataclass(frozen=True)
class ExportScope:
    """The sessions exported (by id, oldest first) and the ``?since=`` filter on participants
    (a SQL condition on ``grove_participant``, or None)."""

    sessions: dict[int, Any]
    since: Any = None
    filtered: bool = False

    @property
    def session_ids(self) -> list[int]:
        return list(self.sessions)


def resolve_scope(db: Session, session_code: str | None, since: Any) -> ExportScope:
    """Every session (oldest first), or the one with ``session_code`` (SessionNotFound)."""
    query = sa.select(ExperimentSession.__table__).order_by(ExperimentSession.id)
    if session_code is not None:
        query = query.where(ExperimentSession.code == session_code)
    sessions = {row.id: row for row in db.execute(query)}
    if session_code is not None and not sessions:
        raise SessionNotFound(f"no session with code {session_code!r}")
    return ExportScope(sessions, since, filtered=session_code is not None)


def participant_batches(db: Session, scope: ExportScope) -> Iterator[list[Any]]:
    """The scope's participants (rows of ``grove_participant``), by id, BATCH_SIZE at a time
    (keyset pagination: each batch is one indexed query)."""
    if not scope.sessions:
        return
    table = Participant.__table__
    last_id = 0
    while True:
        query = (
            sa.select(table)
            .where(table.c.session_id.in_(scope.session_ids), table.c.id > last_id)
            .order_by(table.c.id)
            .limit(BATCH_SIZE)
        )
        if scope.since is not None:
            query = query.where(scope.since)
        batch = list(db.execute(query))
        if not batch:
            return
        yield batch
        last_id = batch[-1].id
        if len(batch) < BATCH_SIZE:
            return


def last_page_names(project: Project, session: Any) -> tuple[str, str] | None:
    """(app name, page class name) of the last page of the session's page sequence; None for
    an empty sequence.

    Where oTree 6.0.15 leaves a finished participant's ``_current_app_name`` and
    ``_current_page_name``: it sets them on every page it looks at while moving a participant
    on, pages not displayed included (``Page.set_attributes`` in
    ``_increment_index_in_pages``), and keeps them when the participant runs off the end.
    """
    pages = project.page_sequence((session.config or {}).get("app_sequence", []))
    return (pages[-1].app_name, pages[-1].page_name) if pages else None


def participant_values(participant: Any, last_page: tuple[str, str] | None) -> list[Any]:
    """A ``grove_participant`` row in PARTICIPANT_COLUMNS order.

    ``last_page`` (``last_page_names`` of the participant's session) is the position exported
    for a participant who finished, as oTree's is; Grove itself keeps none for them.
    """
    app_name, page_name = participant.current_app, participant.current_page_name
    finished = participant.index_in_pages > participant.max_page_index > 0
    if page_name is None and finished and last_page is not None:
        app_name, page_name = last_page
    return [
        participant.id_in_session,
        participant.code,
        participant.label,
        participant.is_bot,
        participant.index_in_pages,
        participant.max_page_index,
        app_name,
        page_name,
        participant.time_started,
        participant.visited,
        None,
        None,
        # The stored sum of the player payoffs is a float (0.07 + 0.75 = 0.8200000000000001);
        # oTree's participant.payoff is an amount, rounded as the currency is (0.82).
        None if participant.payoff is None else Currency(participant.payoff),
    ]


def session_values(session: Any) -> list[Any]:
    """A ``grove_session`` row in SESSION_COLUMNS order."""
    return [
        session.code,
        session.label,
        None,
        None,
        getattr(session, "description", None) or None,
        session.is_demo,
    ]


def config_columns(sessions: Sequence[Any]) -> list[str]:
    """``name`` and then each editable config key of the sessions, in first-seen order."""
    names = ["name"]
    for session in sessions:
        for key, value in (session.config or {}).items():
            if key in NOT_EDITABLE_CONFIG_KEYS or key in names:
                continue
            if value is None or isinstance(value, bool | int | float | str):
                names.append(key)
    return names


def app_order(project: Project, sessions: Sequence[Any]) -> list[str]:
    """oTree's order of apps: the app sequence with the most participants first, then every
    other app of the sessions, by name. Apps no longer in the project are left out."""
    if not sessions:
        return []
    weights: Counter[tuple[str, ...]] = Counter()
    for session in sessions:
        weights[tuple(session.config.get("app_sequence", []))] += session.num_participants
    popular = list(weights.most_common(1)[0][0])
    others = sorted(
        {app for s in sessions for app in s.config.get("app_sequence", [])} - set(popular)
    )
    return [app for app in popular + others if app in project.apps]


def app_columns(project: Project, app_name: str) -> dict[str, list[str]]:
    """oTree's columns of one app's player, group and subsession (built-ins first)."""
    fields = project.apps[app_name].fields
    return {
        "player": ["id_in_group", "role", "payoff", *fields["player"]],
        "group": ["id_in_subsession", *fields["group"]],
        "subsession": ["round_number", *fields["subsession"]],
    }


def model_values(columns: list[str], roles: list[str], row: Any) -> list[Any]:
    """A row of ``<app>_<model>`` in the order of ``columns`` (from app_columns); ``role``
    from id_in_group and the app's ``roles``."""
    mapping = row._mapping
    values = []
    for name in columns:
        if name == "role":
            number = mapping["id_in_group"]
            values.append(roles[number - 1] if roles and number and number <= len(roles) else "")
        elif name == "payoff":
            values.append(mapping["stored_payoff"])  # the column's key (payoff is a property)
        else:
            values.append(mapping[name])
    return values
