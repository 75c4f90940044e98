"""Per-app tables: each app's Subsession, Group and Player become real typed tables.

``<app>_subsession``, ``<app>_group`` and ``<app>_player`` have Grove's bookkeeping columns
plus one column per declared ``models.*Field``, so the data can be queried with plain SQL.
The app's own classes are mapped onto them with SQLAlchemy's imperative mapping.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry, relationship

from server.errors import ConfigurationError
from server.fields import Field, LongStringField, NumberField, StringField, check_text
from server.models.core import ExperimentSession, Participant

RESERVED_NAMES = frozenset(
    {
        "id",
        "session",
        "session_id",
        "subsession",
        "subsession_id",
        "group",
        "group_id",
        "participant",
        "participant_id",
        "round_number",
        "id_in_group",
        "id_in_subsession",
        "payoff",
        "stored_payoff",
        "role",
        "in_round",
        "in_rounds",
        "in_all_rounds",
        "in_previous_rounds",
        "get_players",
        "get_groups",
    }
)


def collect_fields(model_cls: type, app_name: str) -> dict[str, Field]:
    """The ``models.*Field`` attributes a class declares (its bases included), by name."""
    fields: dict[str, Field] = {}
    for klass in reversed(model_cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Field):
                if name in RESERVED_NAMES or name.startswith("_"):
                    raise ConfigurationError(
                        f"apps/{app_name}/__init__.py: {model_cls.__name__}.{name} "
                        "uses a name Grove reserves; rename the field"
                    )
                value.name = name
                fields[name] = value
    # The mapper leaves alone any class attribute that already has a column's name, so the
    # Field declarations make way for the mapped columns (they stay in ``fields``).
    for klass in model_cls.__mro__:
        for name in list(vars(klass)):
            if name in fields and isinstance(vars(klass)[name], Field):
                delattr(klass, name)
    return fields


def field_columns(fields: dict[str, Field]) -> list[sa.Column]:
    """One column per declared field, each knowing its Field (``info["grove_field"]``)."""
    columns = []
    for name, field in fields.items():
        column = field.column(name)
        column.info["grove_field"] = field
        columns.append(column)
    return columns


def check_values_on_assignment(cls: type, table: sa.Table) -> None:
    """Check every value app code assigns to a number or text field, at the assignment.

    A text with a NUL (``player.note = "a\\x00"``) raises ValueError naming the field, where
    PostgreSQL would fail the whole request at commit.

    ``player.age = 2**63`` raises ValueError and ``player.age = "x"`` TypeError there, naming
    ``Player.age``, instead of a 500 at the end of the request (PostgreSQL) or a silently
    stored wrong value (SQLite keeps "x" in an INTEGER column and NaN as NULL). A
    CurrencyField's value becomes a Currency at once (``player.amount = 2.5`` reads 3 points).
    """
    for column in table.columns:
        field = column.info.get("grove_field")
        if isinstance(field, NumberField):
            checker: Any = field.check_value
        elif isinstance(field, StringField | LongStringField):
            checker = check_text
        else:
            continue

        def check(
            target: Any,
            value: Any,
            old: Any,
            initiator: Any,
            checker: Any = checker,
            name: str = column.key,
        ) -> Any:
            return checker(value, where=f"{type(target).__name__}.{name}")

        sa.event.listen(getattr(cls, column.key), "set", check, retval=True)


def _fk(table: sa.Table | Any) -> sa.ForeignKey:
    """A reference to ``table``'s id, by column: Grove's own tables are in Base.metadata, not
    in the project's (server/project.py), so a name would not be found."""
    return sa.ForeignKey(table.c.id, ondelete="CASCADE")


_SESSION_TABLE = ExperimentSession.__table__
_PARTICIPANT_TABLE = Participant.__table__


def build_app_tables(
    app_name: str,
    metadata: sa.MetaData,
    fields: dict[str, dict[str, Field]],
) -> tuple[sa.Table, sa.Table, sa.Table]:
    """Define the three tables of one app in ``metadata``. Raises ConfigurationError when an
    earlier app's ExtraModel already took one of their names."""
    for kind in ("subsession", "group", "player"):
        taken = metadata.tables.get(f"{app_name}_{kind}")
        if taken is not None:
            raise ConfigurationError(
                f"app {app_name}'s {kind.capitalize()} would be stored in the table "
                f"{taken.name}, which an ExtraModel of an earlier app already uses; rename "
                "that ExtraModel"
            )
    subsession = sa.Table(
        f"{app_name}_subsession",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, _fk(_SESSION_TABLE), index=True),
        sa.Column("round_number", sa.Integer, nullable=False),
        *field_columns(fields["subsession"]),
        sa.UniqueConstraint("session_id", "round_number"),
    )
    group = sa.Table(
        f"{app_name}_group",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, _fk(_SESSION_TABLE), index=True),
        sa.Column("subsession_id", sa.Integer, _fk(subsession), index=True),
        sa.Column("round_number", sa.Integer, nullable=False),
        sa.Column("id_in_subsession", sa.Integer, nullable=False),
        *field_columns(fields["group"]),
    )
    player = sa.Table(
        f"{app_name}_player",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, _fk(_SESSION_TABLE), index=True),
        sa.Column("participant_id", sa.Integer, _fk(_PARTICIPANT_TABLE), index=True),
        sa.Column("subsession_id", sa.Integer, _fk(subsession), index=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey(group.c.id), index=True),
        sa.Column("round_number", sa.Integer, nullable=False),
        sa.Column("id_in_group", sa.Integer, nullable=True),
        sa.Column("payoff", sa.Float, nullable=True, key="stored_payoff"),
        *field_columns(fields["player"]),
        sa.UniqueConstraint("participant_id", "round_number"),
    )
    return subsession, group, player


def map_app_classes(
    mapper_registry: registry,
    tables: tuple[sa.Table, sa.Table, sa.Table],
    classes: tuple[type, type, type],
) -> None:
    """Map the app's Subsession, Group and Player classes onto their tables."""
    subsession_table, group_table, player_table = tables
    subsession_cls, group_cls, player_cls = classes

    def to_session(table: sa.Table) -> Any:
        return relationship(
            ExperimentSession,
            primaryjoin=table.c.session_id == ExperimentSession.id,
            foreign_keys=[table.c.session_id],
            viewonly=True,
            lazy="select",
        )

    mapper_registry.map_imperatively(
        subsession_cls, subsession_table, properties={"session": to_session(subsession_table)}
    )
    mapper_registry.map_imperatively(
        group_cls,
        group_table,
        properties={
            "session": to_session(group_table),
            "subsession": relationship(
                subsession_cls,
                primaryjoin=group_table.c.subsession_id == subsession_table.c.id,
                foreign_keys=[group_table.c.subsession_id],
                viewonly=True,
            ),
        },
    )
    mapper_registry.map_imperatively(
        player_cls,
        player_table,
        properties={
            "session": to_session(player_table),
            "participant": relationship(
                Participant,
                primaryjoin=player_table.c.participant_id == Participant.id,
                foreign_keys=[player_table.c.participant_id],
                viewonly=True,
            ),
            "subsession": relationship(
                subsession_cls,
                primaryjoin=player_table.c.subsession_id == subsession_table.c.id,
                foreign_keys=[player_table.c.subsession_id],
                viewonly=True,
            ),
            "group": relationship(
                group_cls,
                primaryjoin=player_table.c.group_id == group_table.c.id,
                foreign_keys=[player_table.c.group_id],
                viewonly=True,
            ),
        },
    )
    for cls, table in zip(classes, tables, strict=True):
        check_values_on_assignment(cls, table)
