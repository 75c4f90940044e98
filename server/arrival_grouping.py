"""``group_by_arrival_time``: players form groups in the order they reach the wait page.

Runs under the subsession's row lock (see flow.arrive_at_wait_page), so arrivals across
workers are grouped one at a time. Groups formed so far take ``id_in_subsession`` 1, 2, ...;
a newly formed group swaps its players into the next group's slots.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models.core import WaitPageArrival, WaitPageCompletion
from server.project import PageEntry, Project


def _grouped_scope(participant_id: int) -> str:
    return f"arrival-grouped:{participant_id}"


def _waiting_players(db: Session, project: Project, entry: PageEntry, player: Any) -> list[Any]:
    """Players of this round at the wait page who have not been grouped yet, by arrival."""
    player_cls = project.apps[entry.app_name].player_cls
    grouped = sa.select(WaitPageCompletion.scope).where(
        WaitPageCompletion.session_id == player.session_id,
        WaitPageCompletion.page_index == entry.index,
    )
    grouped_scopes = set(db.scalars(grouped))
    rows = db.execute(
        sa.select(player_cls, WaitPageArrival.id)
        .join(WaitPageArrival, WaitPageArrival.participant_id == player_cls.participant_id)
        .where(
            player_cls.subsession_id == player.subsession_id,
            WaitPageArrival.page_index == entry.index,
        )
        .order_by(WaitPageArrival.id)
    ).all()
    return [p for p, _ in rows if _grouped_scope(p.participant_id) not in grouped_scopes]


def _place_group(db: Session, project: Project, entry: PageEntry, members: list[Any]) -> None:
    """Put ``members`` into the next group number, swapping out whoever sits there."""
    subsession = members[0].subsession
    formed = (
        db.scalar(
            sa.select(sa.func.count(WaitPageCompletion.id)).where(
                WaitPageCompletion.session_id == members[0].session_id,
                WaitPageCompletion.page_index == entry.index,
                WaitPageCompletion.scope.like("group:%"),
            )
        )
        or 0
    )
    groups = subsession.get_groups()
    target = groups[formed]
    seats = target.get_players()
    newcomers = [p for p in members if p.group_id != target.id]
    member_ids = {p.id for p in members}
    displaced = [p for p in seats if p.id not in member_ids]
    for newcomer, old in zip(newcomers, displaced, strict=True):
        newcomer.group_id, old.group_id = target.id, newcomer.group_id
        newcomer.id_in_group, old.id_in_group = old.id_in_group, newcomer.id_in_group
    for position, member in enumerate(sorted(members, key=lambda p: p.id_in_group), start=1):
        member.id_in_group = position
    db.flush()
    db.expire_all()


def group_arrivals(db: Session, project: Project, entry: PageEntry, player: Any) -> None:
    """Form a group from the waiting players if enough are there (or the method says so)."""
    app = project.apps[entry.app_name]
    waiting = _waiting_players(db, project, entry, player)
    method = app.hook("group_by_arrival_time_method")
    if method is not None:
        chosen = method(player.subsession, waiting)
        members = list(chosen) if chosen else []
    else:
        size = app.players_per_group or len(player.subsession.get_players())
        members = waiting[:size] if len(waiting) >= size else []
    if not members:
        return
    participant_ids = [m.participant_id for m in members]
    _place_group(db, project, entry, members)
    for participant_id in participant_ids:
        db.add(
            WaitPageCompletion(
                session_id=player.session_id,
                page_index=entry.index,
                scope=_grouped_scope(participant_id),
            )
        )
    db.flush()
