"""``group_by_arrival_time``: players form groups in the order they reach the wait page.

Runs under the subsession's row lock (see flow.arrive_at_wait_page), so arrivals across
workers are grouped one at a time. As in oTree, an app whose first page groups by arrival
starts each round with all its players in one group (server/sessions.py); groups formed so far
take ``id_in_subsession`` 1, 2, ..., and the players not grouped yet stay together in the group
after them. As in oTree, a new group is copied to the app's later rounds (a grouping wait page
shown in round 1 only keeps its groups); there only its members' and ungrouped players' rows
change, nobody else's. The later rounds' subsessions are locked first (in ascending round,
after this round's): a later round that groups its own arrivals (a grouping wait page in every
round) does so under its lock.

As in oTree, ``group_by_arrival_time_method`` runs at each arrival and again while players
wait (oTree reloads the wait page every 10 to 70 seconds; Grove's background sweep re-runs it
for each such wait page, ``waiting_to_be_grouped``), so a method that lets a player who waited
too long go alone (``return [player]``) releases them even if nobody else arrives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import lock_ids_in_order
from server.models.core import (
    ExperimentSession,
    Participant,
    WaitPageArrival,
    WaitPageCompletion,
    stored_utc,
    utcnow,
)
from server.participant_presence import DEFAULT_ONLINE_SECONDS, SEEN_REFRESH_SECONDS
from server.project import PageEntry, Project

# oTree groups only players active on the wait page ("In order to be grouped, a user must be
# active on the wait page", multiplayer_waitpages.rst; oTree 6.0.15 also leaves out anyone
# whose last request is over 70 s old). A browser on a Grove wait page asks for its status at
# least every 20 s or so, each noted in last_seen (server/participant_presence.py): one not
# seen for this long has left the page, and is grouped once it is back.
PRESENT_WITHIN_SECONDS = DEFAULT_ONLINE_SECONDS
# oTree groups only players whose wait page is connected: a browser closed before a timeout
# (or the admin's advance) moved its participant onto the wait page was never there. Grove
# counts a waiting player as there only if seen since they arrived at it, give or take the
# SEEN_REFRESH_SECONDS a seen time may lag behind (a participant's own submission notes it
# unless it was noted less than that before).
SEEN_BEFORE_ARRIVAL_SECONDS = SEEN_REFRESH_SECONDS


def _grouped_scope(participant_id: int) -> str:
    return f"arrival-grouped:{participant_id}"


def _waiting_players(
    db: Session, project: Project, entry: PageEntry, player: Any, arriving: bool
) -> list[Any]:
    """Players of this round at the wait page who have not been grouped yet and whose browser
    is still there (seen within PRESENT_WITHIN_SECONDS and since their arrival at the page,
    SEEN_BEFORE_ARRIVAL_SECONDS allowed; or ``player``'s when ``arriving``: a request of
    theirs is there now), by arrival."""
    player_cls = project.apps[entry.app_name].player_cls
    grouped = sa.select(WaitPageCompletion.scope).where(
        WaitPageCompletion.session_id == player.session_id,
        WaitPageCompletion.page_index == entry.index,
    )
    grouped_scopes = set(db.scalars(grouped))
    seen_since = utcnow() - dt.timedelta(seconds=PRESENT_WITHIN_SECONDS)
    present: sa.ColumnElement[bool] = Participant.last_seen >= seen_since
    if arriving:  # there, whenever their browser last asked for anything
        present = sa.or_(present, Participant.id == player.participant_id)
    rows = db.execute(
        sa.select(player_cls, WaitPageArrival.arrived_at, Participant.last_seen)
        .join(WaitPageArrival, WaitPageArrival.participant_id == player_cls.participant_id)
        .join(Participant, Participant.id == player_cls.participant_id)
        .where(
            player_cls.subsession_id == player.subsession_id,
            WaitPageArrival.page_index == entry.index,
            present,
        )
        .order_by(WaitPageArrival.id)
    ).all()
    return [
        p
        for p, arrived_at, last_seen in rows
        if _grouped_scope(p.participant_id) not in grouped_scopes
        and (
            (arriving and p.participant_id == player.participant_id)
            or _seen_since_arrival(last_seen, arrived_at)
        )
    ]


def _seen_since_arrival(last_seen: dt.datetime | None, arrived_at: dt.datetime) -> bool:
    """Was the participant seen after arriving at the wait page (SEEN_BEFORE_ARRIVAL_SECONDS
    allowed)? Times are UTC; SQLite hands them back naive."""
    seen, arrived = stored_utc(last_seen), stored_utc(arrived_at)
    if seen is None or arrived is None:
        return False
    return seen >= arrived - dt.timedelta(seconds=SEEN_BEFORE_ARRIVAL_SECONDS)


def _formed_group_ids(db: Session, session_id: int, entry: PageEntry) -> set[int]:
    """Ids of the groups already formed (and completed) at this wait page."""
    scopes = db.scalars(
        sa.select(WaitPageCompletion.scope).where(
            WaitPageCompletion.session_id == session_id,
            WaitPageCompletion.page_index == entry.index,
            WaitPageCompletion.scope.like("group:%"),
        )
    )
    return {int(scope.split(":", 1)[1]) for scope in scopes}


def _place_group(db: Session, project: Project, entry: PageEntry, members: list[Any]) -> int:
    """Make ``members`` (in this order) the next group; return its id.

    Groups formed before keep their rows and numbers; the players not grouped yet stay
    together in one group after the new one (as in oTree, where they stay in the group the
    round started with).
    """
    subsession = members[0].subsession
    formed_ids = _formed_group_ids(db, members[0].session_id, entry)
    groups = subsession.get_groups()
    formed = [group.get_players() for group in groups if group.id in formed_ids]
    placed = {p.id for row in formed for p in row} | {p.id for p in members}
    rest = sorted(
        (p for p in subsession.get_players() if p.id not in placed),
        key=lambda p: (p.group.id_in_subsession, p.id_in_group),
    )
    rows = [*formed, list(members), *([rest] if rest else [])]
    grouped = {p.participant_id for row in formed for p in row}
    member_ids = [p.participant_id for p in members]
    round_number, num_rounds = subsession.round_number, project.apps[entry.app_name].num_rounds
    subsession.set_group_matrix(rows)
    group_id = int(subsession.get_groups()[len(formed)].id)
    later_rounds = [subsession.in_round(later) for later in range(round_number + 1, num_rounds + 1)]
    # A later round with a grouping wait page of its own groups its arrivals under its own
    # subsession's lock: taken here too (ascending rounds, LOCK ORDER) before its rows are read.
    lock_ids_in_order(db, type(subsession), [later.id for later in later_rounds])
    for later in later_rounds:
        _copy_group_to(later, grouped, member_ids)
    return group_id


def _copy_group_to(subsession: Any, grouped: set[int], member_ids: list[int]) -> None:
    """Give the new group (participants ``member_ids``, in order) the same members in a later
    round, as oTree's group_by_arrival_time copies the group structure to future rounds.

    The round's groups made only of participants ``grouped`` before in the arrival round
    (copied there before, or formed by a wait page of that round) keep their rows, members and
    numbers; the new group comes after them, then the players not grouped yet, in one group.
    Runs under the arrival round's subsession lock: a fixed number of statements whatever the
    number of players (two reads, one UPDATE of the players whose place changes;
    group rows made or removed only when the number of groups changes), since a session's
    every later round is regrouped at each group formed."""
    app = subsession._grove_app
    player_table: sa.Table = app.player_cls.__table__
    group_table: sa.Table = app.group_cls.__table__
    db: Session = subsession._db()
    db.flush()
    groups = db.execute(
        sa.select(group_table.c.id, group_table.c.id_in_subsession)
        .where(group_table.c.subsession_id == subsession.id)
        .order_by(group_table.c.id_in_subsession)
    ).all()
    position = {group_id: number for group_id, number in groups}
    players = db.execute(
        sa.select(
            player_table.c.id,
            player_table.c.participant_id,
            player_table.c.group_id,
            player_table.c.id_in_group,
        ).where(player_table.c.subsession_id == subsession.id)
    ).all()
    by_group: dict[int, list[Any]] = {}
    for row in sorted(players, key=lambda r: (position.get(r.group_id, 0), r.id_in_group)):
        by_group.setdefault(row.group_id, []).append(row)
    rows_by_group = [by_group[group_id] for group_id, _number in groups if group_id in by_group]
    settled = [row for row in rows_by_group if all(p.participant_id in grouped for p in row)]
    by_participant = {p.participant_id: p for p in players}
    new_group = [by_participant[participant_id] for participant_id in member_ids]
    placed = {p.id for row in settled for p in row} | {p.id for p in new_group}
    rest = [p for row in rows_by_group for p in row if p.id not in placed]
    matrix = [*settled, new_group, *([rest] if rest else [])]
    group_ids = [group_id for group_id, _number in groups]
    for number in range(len(group_ids) + 1, len(matrix) + 1):
        group = app.group_cls(
            session_id=subsession.session_id,
            subsession_id=subsession.id,
            round_number=subsession.round_number,
            id_in_subsession=number,
        )
        db.add(group)
        db.flush()
        group_ids.append(group.id)
    changes = [
        {"player": p.id, "group": group_ids[index], "place": place}
        for index, row in enumerate(matrix)
        for place, p in enumerate(row, start=1)
        if (p.group_id, p.id_in_group) != (group_ids[index], place)
    ]
    if changes:
        db.connection().execute(
            player_table.update()
            .where(player_table.c.id == sa.bindparam("player"))
            .values(group_id=sa.bindparam("group"), id_in_group=sa.bindparam("place")),
            changes,
        )
    for group_id in group_ids[len(matrix) :]:
        db.delete(db.get(app.group_cls, group_id))
    db.flush()
    db.expire_all()


def group_arrivals(
    db: Session, project: Project, entry: PageEntry, player: Any, *, arriving: bool = True
) -> int | None:
    """Form a group from the waiting players if enough are there (or the method says so).

    ``arriving``: ``player`` is on the wait page now, whatever their ``last_seen`` says (their
    own request, or one made for them); False for the background sweep's re-run, which only
    picks a waiting player to run it for (``waiting_to_be_grouped``).

    Returns the new group's id, or None. ``group_by_arrival_time_method`` may return any
    number of the waiting players (``[player]`` lets one go alone); anything else is a
    ValueError naming the method.
    """
    app = project.apps[entry.app_name]
    waiting = _waiting_players(db, project, entry, player, arriving)
    if not waiting:
        return None
    method = app.hook("group_by_arrival_time_method")
    if method is not None:
        chosen = method(player.subsession, list(waiting))
        members = list(chosen) if chosen else []
        waiting_ids = {p.id for p in waiting}
        chosen_ids = [getattr(p, "id", None) for p in members]
        if len(set(chosen_ids)) != len(chosen_ids) or not waiting_ids.issuperset(chosen_ids):
            raise ValueError(
                f"group_by_arrival_time_method in {app.location}/__init__.py must return "
                f"players from its waiting_players list, each once; it returned {chosen!r}"
            )
    else:
        size = app.players_per_group or len(player.subsession.get_players())
        members = waiting[:size] if len(waiting) >= size else []
    if not members:
        return None
    participant_ids = [m.participant_id for m in members]
    group_id = _place_group(db, project, entry, members)
    for participant_id in participant_ids:
        db.add(
            WaitPageCompletion(
                session_id=player.session_id,
                page_index=entry.index,
                scope=_grouped_scope(participant_id),
            )
        )
    db.flush()
    return group_id


def waiting_to_be_grouped(db: Session, project: Project) -> list[tuple[str, int]]:
    """One (participant code, page index) per ``group_by_arrival_time`` wait page where
    players are waiting to be grouped."""
    rows = db.execute(
        sa.select(
            Participant.code,
            Participant.id,
            Participant.session_id,
            WaitPageArrival.page_index,
            ExperimentSession.config,
        )
        .join(WaitPageArrival, WaitPageArrival.participant_id == Participant.id)
        .join(ExperimentSession, ExperimentSession.id == Participant.session_id)
        .where(Participant.index_in_pages == WaitPageArrival.page_index)
        .order_by(WaitPageArrival.id)
    ).all()
    candidates: dict[tuple[int, int], list[tuple[str, int]]] = {}
    for code, participant_id, session_id, page_index, config in rows:
        pages = project.page_sequence(config["app_sequence"])
        page_cls = pages[page_index - 1].page_cls if page_index <= len(pages) else None
        if getattr(page_cls, "group_by_arrival_time", False):
            candidates.setdefault((session_id, page_index), []).append((code, participant_id))
    if not candidates:
        return []
    grouped = set(
        db.execute(
            sa.select(
                WaitPageCompletion.session_id,
                WaitPageCompletion.page_index,
                WaitPageCompletion.scope,
            ).where(
                WaitPageCompletion.session_id.in_({key[0] for key in candidates}),
                WaitPageCompletion.scope.like("arrival-grouped:%"),
            )
        ).all()
    )
    found = []
    for (session_id, page_index), waiting in candidates.items():
        for code, participant_id in waiting:
            if (session_id, page_index, _grouped_scope(participant_id)) not in grouped:
                found.append((code, page_index))
                break
    return found
