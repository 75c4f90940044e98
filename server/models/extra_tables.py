"""Each app's ExtraModels become real tables, ``<app>_<model name in lower case>`` (oTree's).

A table has ``id``, ``session_id`` (the session of the rows it links to; deleting the session
deletes the row), one ``<link>_id`` foreign key per ``models.Link`` (deleting the linked row
deletes this one, as in oTree) and one typed column per ``models.*Field``.
"""

from __future__ import annotations

import types
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry, relationship

from server.errors import ConfigurationError
from server.extra_model import ExtraModel
from server.fields import Field, Link
from server.models.app_tables import check_values_on_assignment, field_columns
from server.models.base import Base
from server.models.core import ExperimentSession

# Names an ExtraModel cannot give a field or link: its own columns and methods.
RESERVED_NAMES = frozenset(
    {"id", "session", "session_id", "create", "filter", "values_dicts", "delete"}
)


def extra_models_of(module: types.ModuleType) -> list[type[ExtraModel]]:
    """The ExtraModel classes an app's module defines (not those it imports), in order."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ExtraModel)
        and value is not ExtraModel
        and value.__module__ == module.__name__
    ]


def _collect(model_cls: type, app_name: str) -> tuple[dict[str, Link], dict[str, Field]]:
    links: dict[str, Link] = {}
    fields: dict[str, Field] = {}
    where = f"apps/{app_name}/__init__.py: {model_cls.__name__}"
    for klass in reversed(model_cls.__mro__):
        for name, value in vars(klass).items():
            if not isinstance(value, Field | Link):
                continue
            if name in RESERVED_NAMES or name.startswith("_"):
                raise ConfigurationError(
                    f"{where}.{name} uses a name Grove reserves; rename the field"
                )
            value.name = name
            if isinstance(value, Link):
                links[name] = value
            else:
                fields[name] = value
    for name in links:
        if f"{name}_id" in fields:
            raise ConfigurationError(
                f"{where}.{name}_id: the link {name!r} is stored in a column of that name; "
                "rename the field"
            )
    # The mapper leaves alone a class attribute that already has a column's name.
    for klass in model_cls.__mro__:
        for name in list(vars(klass)):
            if name in links or name in fields:
                delattr(klass, name)
    return links, fields


def _target_table(model_cls: type, name: str, target: type, app_name: str) -> sa.Table:
    mapper: Any = sa.inspect(target, raiseerr=False)
    if mapper is None:
        raise ConfigurationError(
            f"apps/{app_name}/__init__.py: {model_cls.__name__}.{name} links to "
            f"{target.__name__}, which is not a model Grove has loaded (link to a Player, "
            "Group, Subsession or ExtraModel of this app or of an app loaded before it)"
        )
    return mapper.local_table


def map_extra_model(
    app_name: str, model_cls: type[ExtraModel], metadata: sa.MetaData, mapper_registry: registry
) -> sa.Table:
    """Define ``model_cls``'s table in ``metadata`` and map the class onto it.

    Raises ConfigurationError for a reserved name, a link to something that is not a loaded
    model, or a table name another model of the project already has.
    """
    links, fields = _collect(model_cls, app_name)
    name = f"{app_name}_{model_cls.__name__.lower()}"
    if name in metadata.tables or name in Base.metadata.tables:
        raise ConfigurationError(
            f"apps/{app_name}/__init__.py: ExtraModel {model_cls.__name__} would be stored in "
            f"the table {name}, which another model of the project already uses; rename it"
        )
    targets = {
        link: _target_table(model_cls, link, value.to, app_name) for link, value in links.items()
    }
    link_columns = []
    for link, table in targets.items():
        column = sa.Column(
            f"{link}_id",
            sa.Integer,
            sa.ForeignKey(table.c.id, ondelete="CASCADE"),
            nullable=True,
            index=True,
        )
        column.info["grove_link"] = links[link]
        link_columns.append(column)
    table = sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey(ExperimentSession.__table__.c.id, ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        *link_columns,
        *field_columns(fields),
    )
    table.info["grove_model"] = model_cls.__name__
    properties: dict[str, Any] = {
        link: relationship(
            links[link].to,
            primaryjoin=table.c[f"{link}_id"] == target.c.id,
            foreign_keys=[table.c[f"{link}_id"]],
            lazy="select",
        )
        for link, target in targets.items()
    }
    mapper_registry.map_imperatively(model_cls, table, properties=properties)
    model_cls._grove_app_name = app_name
    model_cls._grove_links = links
    model_cls._grove_fields = fields
    check_values_on_assignment(model_cls, table)
    return table
