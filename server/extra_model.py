"""``ExtraModel``: an app's own tables of many rows per player (oTree's ``ExtraModel``).

``class Bid(ExtraModel): player = models.Link(Player); amount = models.CurrencyField()``
becomes the table ``<app>_bid`` when the project loads (server/models/extra_tables.py).
``Bid.create(player=p, amount=3)`` adds a row to the unit of work the page code runs in (the
database session of the rows it links to), ``Bid.filter(player=p)`` and
``Bid.values_dicts(player=p)`` read rows by id, and ``bid.delete()`` removes one.

Every row also records its session (the column ``session_id``, taken from the rows it links
to), so deleting a session deletes its rows and the data export can offer them per session.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar, Self

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from server.db import BETWEEN_UNITS_KEY, current_unit
from server.fields import Field, Link

_creations = itertools.count(1)


class ExtraModel:
    """Base of an app's extra models: declare ``models.*Field`` and ``models.Link`` attributes."""

    _grove_app_name: ClassVar[str] = ""
    _grove_fields: ClassVar[dict[str, Field]] = {}
    _grove_links: ClassVar[dict[str, Link]] = {}
    # Columns and relationships are added when the project loads; Any keeps both instance
    # values and class-level column expressions typed for mypy.
    id: Any
    session_id: Any
    # The order of the rows created and not stored yet (``_pending_matches``).
    _grove_created: int = 0

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def _check_mapped(cls) -> None:
        if "_grove_app_name" not in vars(cls):
            raise RuntimeError(
                f"{cls.__name__} is not the ExtraModel of a loaded app (define it in an app's "
                "__init__.py, at module level)"
            )

    @classmethod
    def _names(cls) -> list[str]:
        return [*cls._grove_links, *cls._grove_fields]

    @classmethod
    def _check_names(cls, method: str, values: dict[str, Any]) -> None:
        known = {"id", *cls._names()}
        unknown = [name for name in values if name not in known]
        if unknown:
            named = ", ".join(map(repr, unknown))
            raise TypeError(
                f"{cls.__name__}.{method}(): no field or link named {named} "
                f"(it has {', '.join(cls._names()) or 'none'})"
            )

    @classmethod
    def _check_link(cls, name: str, value: Any) -> None:
        target = cls._grove_links[name].to
        if value is not None and not isinstance(value, target):
            raise TypeError(
                f"{cls.__name__}.{name} links to {target.__name__}, not to "
                f"{type(value).__name__} {value!r}"
            )

    @classmethod
    def _unit(cls, values: dict[str, Any], method: str) -> Session:
        """The database session of the linked rows, else the current unit of work."""
        for value in values.values():
            db = object_session(value) if _is_row(value) else None
            if db is not None:
                return db
        db = current_unit()
        if db is None:
            raise RuntimeError(
                f"{cls.__name__}.{method}() runs outside a request: pass a row it links to "
                "(e.g. player=player)"
            )
        return db

    @classmethod
    def create(cls, **values: Any) -> Self:
        """Add a row with these fields and links; returns it, with its ``id`` (in the step
        of an async live method, at the method's next ``yield``, when the row is stored).

        Raises TypeError for a name the model does not declare or a link to the wrong kind
        of row, ValueError when the linked rows belong to different sessions.
        """
        cls._check_mapped()
        cls._check_names("create", values)
        if "id" in values:
            raise TypeError(f"{cls.__name__}.create(): the id is given by the database")
        sessions = set()
        for name in cls._grove_links:
            if name in values:
                cls._check_link(name, values[name])
                if values[name] is not None:
                    sessions.add(_session_id_of(values[name]))
        sessions.discard(None)
        if len(sessions) > 1:
            raise ValueError(
                f"{cls.__name__}.create(): the linked rows belong to different sessions"
            )
        db = cls._unit(values, "create")
        for name, field in cls._grove_fields.items():
            if name not in values and field.initial is not None:
                values[name] = field.initial
        row = cls(**values)
        row.session_id = next(iter(sessions), None)
        row._grove_created = next(_creations)
        db.add(row)
        if not db.info.get(BETWEEN_UNITS_KEY):
            # Between an async live method's units of work (no lock held) the row is
            # inserted, and gets its id, at the method's next yield.
            db.flush()
        return row

    @classmethod
    def _conditions(cls, method: str, values: dict[str, Any]) -> list[Any]:
        cls._check_mapped()
        cls._check_names(method, values)
        conditions = []
        for name, value in values.items():
            if name in cls._grove_links:
                cls._check_link(name, value)
                column = getattr(cls, f"{name}_id")
                conditions.append(column.is_(None) if value is None else column == value.id)
            else:
                column = getattr(cls, name)
                conditions.append(column.is_(None) if value is None else column == value)
        return conditions

    @classmethod
    def filter(cls, **values: Any) -> list[Self]:
        """The rows whose fields and links equal these, by id; every row with no arguments.

        As in oTree, arguments must include a row (``player=player``), so a query cannot
        forget to stay within its session; raises ValueError otherwise, TypeError for an
        unknown name.
        """
        conditions = cls._conditions("filter", values)
        if values and not any(_is_row(value) for value in values.values()):
            raise ValueError(
                f"{cls.__name__}.filter(): at least one argument must be a row, e.g. "
                "player=player or group=group"
            )
        db = cls._unit(values, "filter")
        rows = list(db.scalars(sa.select(cls).where(*conditions).order_by(cls.id)))
        if db.info.get(BETWEEN_UNITS_KEY):
            rows = [row for row in rows if row not in db.deleted]
            rows += cls._pending_matches(db, values)
        return rows

    @classmethod
    def _pending_matches(cls, db: Session, values: dict[str, Any]) -> list[Self]:
        """The rows an async live method's step created (stored at its next ``yield``, so
        no query finds them yet) that match ``values``, in the order they were created:
        they count as rows of the model within the step, as in oTree."""
        pending = [row for row in db.new if isinstance(row, cls)]
        pending.sort(key=lambda row: row._grove_created)
        return [
            row
            for row in pending
            if all(
                getattr(row, name) is value
                or (value is not None and getattr(row, f"{name}_id", None) == value.id)
                if name in cls._grove_links
                else getattr(row, name) == value
                for name, value in values.items()
            )
        ]

    @classmethod
    def values_dicts(cls, *, order_by: str | None = None, **values: Any) -> list[dict[str, Any]]:
        """The matching rows as dicts of their columns (``id``, each field and each link's
        ``<link>_id``), by id or by the column ``order_by``; oTree 5.8's ``values_dicts``."""
        conditions = cls._conditions("values_dicts", values)
        names = ["id", *cls._grove_fields, *(f"{name}_id" for name in cls._grove_links)]
        if order_by is not None and order_by not in names:
            raise TypeError(f"{cls.__name__}.values_dicts(): no column {order_by!r} to order by")
        db = cls._unit(values, "values_dicts")
        query = (
            sa.select(*(getattr(cls, name) for name in names))
            .where(*conditions)
            .order_by(getattr(cls, order_by or "id"), cls.id)
        )
        found = [dict(zip(names, row, strict=True)) for row in db.execute(query)]
        if db.info.get(BETWEEN_UNITS_KEY):
            gone = {row.id for row in db.deleted if isinstance(row, cls)}
            found = [row for row in found if row["id"] not in gone]
            for row in cls._pending_matches(db, values):
                found.append(
                    {
                        "id": None,
                        **{name: getattr(row, name) for name in cls._grove_fields},
                        **{
                            f"{name}_id": getattr(getattr(row, name), "id", None)
                            for name in cls._grove_links
                        },
                    }
                )
        return found

    def delete(self) -> None:
        """Remove this row (and the rows of other ExtraModels that link to it)."""
        db = object_session(self)
        if db is None:
            raise RuntimeError(f"{type(self).__name__} is not attached to a database session")
        if not db.info.get(BETWEEN_UNITS_KEY):
            db.delete(self)
            db.flush()
        elif self in db.new:
            # Created in this step of an async live method and not stored yet: never stored.
            db.expunge(self)
        else:
            db.delete(self)  # at the async live method's next yield

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name, None)!r}"
            for name in ("id", *(f"{link}_id" for link in self._grove_links), *self._grove_fields)
        )
        return f"{type(self).__name__}({shown})"


def _is_row(value: Any) -> bool:
    return sa.inspect(value, raiseerr=False) is not None and not isinstance(value, type)


def _session_id_of(row: Any) -> int | None:
    """The id of the session a linked row belongs to."""
    from server.models.core import ExperimentSession

    if isinstance(row, ExperimentSession):
        return int(row.id)
    return getattr(row, "session_id", None)
