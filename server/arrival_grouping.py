"""``group_by_arrival_time``: players form groups in the order they reach the wait page.

Runs under the subsession's row lock (see flow.arrive_at_wait_page), so arrivals across
workers are grouped one at a time. As in oTree, an app whose first page groups by arrival
starts each round with all its players in one group (server/sessions.py). Each group formed is
a new group row (its fields at their defaults), in the arrival round and, as oTree copies the
group structure to future rounds, in each later round of the app (a grouping wait page shown
in round 1 only keeps its groups); its number is the next after every group of the app in the
session, and a group left without players is deleted (``_place_group``). The players not
grouped stay where they were. The later rounds' subsessions are locked first (in ascending
round, after this round's): a later round that groups its own arrivals (a grouping wait page
in every round) does so under its lock.

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


def _place_group(db: Session, project: Project, entry: PageEntry, members: list[Any]) -> int:
    """Make ``members`` (in this order) a new group, in their round and every later round of
    the app; return the new group's id in their round.

    As oTree 6.0.15 does (measured with bots, ``otree test --export``): each round gets a new
    group row, its fields at their defaults, numbered ``id_in_subsession`` = 1 + the largest
    of any group of the app in the session (all rounds), so the same number in every round;
    the members take id_in_group 1, 2, ... in ``members``' order; every other player keeps
    their group and id_in_group; a group left without players in these rounds is deleted.

    The arrival round's subsession is locked already (the wait page's scope); the later
    rounds' subsessions are locked here, in ascending round (LOCK ORDER), before anything is
    read from them, and the new number is read only once every lock is held: every grouping
    of the app in the session holds its last round's lock, so two cannot take one number. A
    fixed number of statements whatever the number of players or rounds (the later rounds
    are regrouped at each group formed).
    """
    app = project.apps[entry.app_name]
    subsession_table: sa.Table = app.subsession_cls.__table__
    group_table: sa.Table = app.group_cls.__table__
    player_table: sa.Table = app.player_cls.__table__
    first = members[0]
    session_id, round_number = first.session_id, first.round_number
    db.flush()  # the members' pending changes, before the Core statements below
    subsessions = db.execute(
        sa.select(subsession_table.c.id, subsession_table.c.round_number)
        .where(
            subsession_table.c.session_id == session_id,
            subsession_table.c.round_number >= round_number,
        )
        .order_by(subsession_table.c.round_number)
    ).all()
    # Subsessions are created round by round (server/sessions.py): ascending ids are
    # ascending rounds.
    lock_ids_in_order(db, app.subsession_cls, [row.id for row in subsessions[1:]])
    number = 1 + (
        db.scalar(
            sa.select(sa.func.max(group_table.c.id_in_subsession)).where(
                group_table.c.session_id == session_id
            )
        )
        or 0
    )
    db.execute(
        sa.insert(group_table),
        [
            {
                "session_id": session_id,
                "subsession_id": row.id,
                "round_number": row.round_number,
                "id_in_subsession": number,
            }
            for row in subsessions
        ],
    )
    new_groups = dict(
        db.execute(
            sa.select(group_table.c.round_number, group_table.c.id).where(
                group_table.c.session_id == session_id,
                group_table.c.id_in_subsession == number,
            )
        ).all()
    )
    place = {member.participant_id: index for index, member in enumerate(members, start=1)}
    players = db.execute(
        sa.select(
            player_table.c.id,
            player_table.c.participant_id,
            player_table.c.round_number,
            player_table.c.group_id,
        ).where(
            player_table.c.session_id == session_id,
            player_table.c.round_number >= round_number,
            player_table.c.participant_id.in_(place),
        )
    ).all()
    db.connection().execute(
        player_table.update()
        .where(player_table.c.id == sa.bindparam("player"))
        .values(group_id=sa.bindparam("group"), id_in_group=sa.bindparam("place")),
        [
            {
                "player": p.id,
                "group": new_groups[p.round_number],
                "place": place[p.participant_id],
            }
            for p in players
        ],
    )
    left = {p.group_id for p in players}
    group_cls = app.group_cls
    db.execute(
        sa.delete(group_cls)
        .where(
            group_cls.id.in_(left),
            ~sa.exists().where(player_table.c.group_id == group_cls.id),
        )
        .execution_options(synchronize_session="fetch")
    )
    db.expire_all()
    return int(new_groups[round_number])


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
