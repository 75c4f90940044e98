"""``BaseConstants``, ``BaseSubsession``, ``BaseGroup``, ``BasePlayer``: the classes apps extend.

The app's own ``Subsession``, ``Group`` and ``Player`` classes are mapped to per-app tables by
:mod:`server.models.app_tables` when the project loads; the methods here run on those rows.
"""

from __future__ import annotations

import functools
import random
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from server import player_cache
from server.currency import Currency


class BaseConstants:
    """Base of an app's ``C`` class (NAME_IN_URL, PLAYERS_PER_GROUP, NUM_ROUNDS...)."""

    NAME_IN_URL: str | None = None
    PLAYERS_PER_GROUP: int | None = None
    NUM_ROUNDS: int = 1


class _AppModel:
    """What the three app models share: round navigation and the unit of work."""

    _grove_app: ClassVar[Any] = None
    # Columns and relationships are added per app (server/models/app_tables.py); Any keeps
    # both instance values and class-level column expressions typed for mypy.
    id: Any
    session_id: Any
    round_number: Any

    def _db(self) -> Session:
        db = object_session(self)
        if db is None:
            raise RuntimeError(f"{type(self).__name__} is not attached to a database session")
        return db

    def field_maybe_none(self, name: str) -> Any:
        """The value of a field, or None when it has not been set (oTree's helper)."""
        return getattr(self, name)

    def field_display(self, name: str) -> str:
        """The label of the chosen choice of a field with choices."""
        value = getattr(self, name)
        field = self._grove_app.fields_of(type(self)).get(name)
        for choice_value, label in (field.choices or []) if field else []:
            if choice_value == value:
                return label
        return "" if value is None else str(value)

    def _same_in_round(self, round_number: int) -> Any:
        raise NotImplementedError

    def in_round(self, round_number: int) -> Any:
        """This object's counterpart in another round of the same app."""
        num_rounds = self._grove_app.num_rounds
        if not 1 <= round_number <= num_rounds:
            raise ValueError(f"round_number must be between 1 and {num_rounds}, not {round_number}")
        return self._same_in_round(round_number)

    def in_rounds(self, first: int, last: int) -> list[Any]:
        """The counterparts in rounds first..last inclusive."""
        return [self.in_round(n) for n in range(first, last + 1)]

    def in_previous_rounds(self) -> list[Any]:
        """The counterparts in rounds 1..round_number-1."""
        return self.in_rounds(1, self.round_number - 1)

    def in_all_rounds(self) -> list[Any]:
        """The counterparts in rounds 1..round_number."""
        return self.in_rounds(1, self.round_number)


class BaseSubsession(_AppModel):
    """One round of one app in one session."""

    def _same_in_round(self, round_number: int) -> Any:
        cls = type(self)
        return (
            self._db()
            .scalars(
                sa.select(cls).where(
                    cls.session_id == self.session_id, cls.round_number == round_number
                )
            )
            .one()
        )

    def get_players(self) -> list[Any]:
        """Every player of this round, by participant's id_in_session."""
        app = self._grove_app
        player_cls = app.player_cls
        from server.models.core import Participant

        return list(
            self._db().scalars(
                sa.select(player_cls)
                .join(Participant, Participant.id == player_cls.participant_id)
                .where(player_cls.subsession_id == self.id)
                .order_by(Participant.id_in_session)
            )
        )

    def get_groups(self) -> list[Any]:
        """Every group of this round, by id_in_subsession."""
        group_cls = self._grove_app.group_cls
        return list(
            self._db().scalars(
                sa.select(group_cls)
                .where(group_cls.subsession_id == self.id)
                .order_by(group_cls.id_in_subsession)
            )
        )

    def get_group_matrix(self, objects: bool = False) -> list[list[Any]]:
        """The groups as lists of players (objects=True) or of participant id_in_session."""
        matrix: list[list[Any]] = []
        for group in self.get_groups():
            players = group.get_players()
            matrix.append(players if objects else [p.participant.id_in_session for p in players])
        return matrix

    def set_group_matrix(self, matrix: list[list[Any]]) -> None:
        """Regroup this round: each row is a group, of players or of id_in_session numbers."""
        players = self.get_players()
        by_id_in_session = {p.participant.id_in_session: p for p in players}
        rows: list[list[Any]] = []
        seen: set[int] = set()
        for row in matrix:
            resolved = []
            for entry in row:
                player = by_id_in_session.get(entry) if isinstance(entry, int) else entry
                if player is None or player not in players:
                    raise ValueError(f"set_group_matrix: {entry!r} is not a player of this round")
                if player.id in seen:
                    raise ValueError(f"set_group_matrix: {entry!r} appears twice")
                seen.add(player.id)
                resolved.append(player)
            rows.append(resolved)
        if len(seen) != len(players):
            raise ValueError("set_group_matrix: the matrix must contain every player exactly once")
        db = self._db()
        group_cls = self._grove_app.group_cls
        existing = self.get_groups()
        for index, row in enumerate(rows, start=1):
            if index <= len(existing):
                group = existing[index - 1]
            else:
                group = group_cls(
                    session_id=self.session_id,
                    subsession_id=self.id,
                    round_number=self.round_number,
                    id_in_subsession=index,
                )
                db.add(group)
                db.flush()
            for id_in_group, player in enumerate(row, start=1):
                player.group_id = group.id
                player.id_in_group = id_in_group
        db.flush()
        for group in existing[len(rows) :]:
            db.delete(group)
        db.flush()
        db.expire_all()

    def group_randomly(self, fixed_id_in_group: bool = False) -> None:
        """Shuffle players into groups of the same sizes; optionally keep each id_in_group."""
        matrix = self.get_group_matrix(objects=True)
        if fixed_id_in_group:
            columns = [list(column) for column in zip(*matrix, strict=True)]
            for column in columns:
                random.shuffle(column)
            matrix = [list(row) for row in zip(*columns, strict=True)]
        else:
            sizes = [len(row) for row in matrix]
            flat = [p for row in matrix for p in row]
            random.shuffle(flat)
            matrix, start = [], 0
            for size in sizes:
                matrix.append(flat[start : start + size])
                start += size
        self.set_group_matrix(matrix)

    def group_like_round(self, round_number: int) -> None:
        """Copy the grouping of an earlier round."""
        other = self.in_round(round_number)
        self.set_group_matrix(other.get_group_matrix())


class BaseGroup(_AppModel):
    """A group of players in one round."""

    id_in_subsession: Any
    subsession_id: Any

    def _same_in_round(self, round_number: int) -> Any:
        """The group numbered as this one (``id_in_subsession``) in that round; ValueError if
        there is none, as oTree's InvalidRoundError (a group formed by arrival in a later
        round is numbered after every earlier round's groups)."""
        cls = type(self)
        found = (
            self._db()
            .scalars(
                sa.select(cls).where(
                    cls.session_id == self.session_id,
                    cls.round_number == round_number,
                    cls.id_in_subsession == self.id_in_subsession,
                )
            )
            .one_or_none()
        )
        if found is None:
            raise ValueError(
                f"round {round_number} has no group numbered {self.id_in_subsession} "
                "(id_in_subsession), the number of this group: groups formed by "
                "group_by_arrival_time or set_group_matrix need not be in every round"
            )
        return found

    def get_players(self) -> list[Any]:
        """The players of this group, by id_in_group."""
        db = self._db()
        players = list(
            db.scalars(_group_players_query(self._grove_app.player_cls), {"group_id": self.id})
        )
        player_cache.remember(db, players)  # a wait page's completion moves them next
        return players

    def get_player_by_id(self, id_in_group: int) -> Any:
        """The player with this id_in_group; ValueError if there is none."""
        for player in self.get_players():
            if player.id_in_group == id_in_group:
                return player
        raise ValueError(f"no player with id_in_group {id_in_group} in this group")

    def set_players(self, players: list[Any]) -> None:
        """Put these players in this group, with id_in_group 1, 2, ... in the list's order
        (so their roles follow), as oTree's ``group.set_players``.

        As in oTree, a player of this group left out of the list keeps its place and number,
        so a regrouping can move players between groups one group at a time. Raises TypeError
        for an entry that is not a player (oTree refuses numbers too: they would be
        ambiguous), ValueError for a player of another round or one listed twice.
        """
        player_cls = self._grove_app.player_cls
        seen: set[int] = set()
        for entry in players:
            if not isinstance(entry, player_cls):
                raise TypeError(
                    f"set_players takes this app's Player objects, not {type(entry).__name__} "
                    f"{entry!r}"
                )
            if entry.subsession_id != self.subsession_id:
                raise ValueError(
                    f"set_players: {_described(entry)} is not a player of this group's round"
                )
            if entry.id in seen:
                raise ValueError(f"set_players: {_described(entry)} appears twice")
            seen.add(entry.id)
        for id_in_group, player in enumerate(players, start=1):
            player.group_id = self.id
            player.id_in_group = id_in_group
        db = self._db()
        db.flush()
        for player in players:
            db.expire(player, ["group"])

    def get_player_by_role(self, role: str) -> Any:
        """The player with this role (C.<NAME>_ROLE); ValueError if there is none."""
        for player in self.get_players():
            if player.role == role:
                return player
        raise ValueError(f"no player with role {role!r} in this group")


class BasePlayer(_AppModel):
    """One participant in one round of one app."""

    participant_id: Any
    subsession_id: Any
    group_id: Any
    id_in_group: Any
    stored_payoff: Any
    participant: Any
    group: Any
    subsession: Any

    def _same_in_round(self, round_number: int) -> Any:
        cls = type(self)
        return (
            self._db()
            .scalars(
                sa.select(cls).where(
                    cls.participant_id == self.participant_id, cls.round_number == round_number
                )
            )
            .one()
        )

    @property
    def payoff(self) -> Currency:
        """This round's payoff; setting it also updates participant.payoff."""
        return Currency(self.stored_payoff or 0)

    @payoff.setter
    def payoff(self, value: float) -> None:
        new = float(Currency(value))
        delta = new - float(self.stored_payoff or 0)
        self.stored_payoff = new
        participant = self.participant
        participant.stored_payoff = float(participant.stored_payoff or 0) + delta

    @property
    def id_in_subsession(self) -> int:
        """The player's number in the round: its participant's id_in_session (as oTree's)."""
        return int(self.participant.id_in_session)

    @property
    def role(self) -> str:
        """The role of this player's id_in_group, from the C.<NAME>_ROLE constants."""
        roles = self._grove_app.roles
        if not roles or self.id_in_group is None or self.id_in_group > len(roles):
            return ""
        return roles[self.id_in_group - 1]

    def get_others_in_group(self) -> list[Any]:
        """The other players of this player's group."""
        return [p for p in self.group.get_players() if p.id != self.id]

    def get_others_in_subsession(self) -> list[Any]:
        """The other players of this round."""
        return [p for p in self.subsession.get_players() if p.id != self.id]


def _described(player: Any) -> str:
    return f"the player of participant {player.participant.code} in round {player.round_number}"


@functools.lru_cache(maxsize=256)
def _group_players_query(player_cls: Any) -> sa.Select[Any]:
    """``get_players``' SELECT of the players of group ``:group_id`` by id_in_group, built
    once per Player class (building it and its cache key at each call took about 40 us)."""
    return (
        sa.select(player_cls)
        .where(player_cls.group_id == sa.bindparam("group_id"))
        .order_by(player_cls.id_in_group)
    )
