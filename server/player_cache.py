"""The players a unit of work has loaded, by participant and round: ``flow.player_for`` reads
each player once per unit of work (a submission looks the same player up for the page it
submits and for each page it moves through), and a group's ``get_players()`` puts the rows it
loaded here, so a wait page's completion does not read the members' players again after an
``after_all_players_arrive`` that went through them.

The cache lives in the database session's ``info`` and holds its players strongly (the
session's identity map alone would let them go). A unit of work that expires its objects to
read them afresh under a lock forgets it (``forget``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

_KEY = "grove_players"


def _cache(db: Session) -> dict[tuple[Any, int, int], Any]:
    cache: dict[tuple[Any, int, int], Any] = db.info.setdefault(_KEY, {})
    return cache


def cached_player(db: Session, player_cls: Any, participant_id: int, round_number: int) -> Any:
    """The player of ``player_cls`` for this participant and round, if this unit of work
    loaded it; else None."""
    return _cache(db).get((player_cls, participant_id, round_number))


def remember(db: Session, players: Iterable[Any]) -> None:
    """Keep these loaded player rows for ``cached_player``."""
    cache = _cache(db)
    for player in players:
        cache[(type(player), player.participant_id, player.round_number)] = player


def forget(db: Session) -> None:
    """Drop what this unit of work kept (its objects are about to be read afresh)."""
    db.info.pop(_KEY, None)
