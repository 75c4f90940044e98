"""Reading a field that holds None is an error in app code, as in oTree.

oTree documents (misc_tips_and_tricks.rst, "field_maybe_none") that reading a Player, Group
or Subsession field whose value is None raises TypeError, to catch a field the app forgot to
set or to put in ``form_fields``; ``player.field_maybe_none('abc')`` reads it without the
error. Measured on oTree 6.0.15 (tests/test_null_fields.py): it raises wherever app code
reads such a field of a row loaded from the database (page hooks, live methods, templates,
bots' ``tests.py``, ``in_round``), for declared fields of every type; ExtraModel, Participant
and Session fields never raise; in ``creating_session`` the players and groups it has just
created read freely, the subsession does not.

Grove does this with the attribute that SQLAlchemy puts on the class for each declared
field (:class:`NullCheckedField`, a subclass of its ``InstrumentedAttribute``): the check
is one comparison with None on the read of a field (which, reading the instance's dict
itself, takes 135 ns against SQLAlchemy's 210 ns), and nothing on any other attribute. Grove's own
code (forms, exports, admin pages, wait pages, the bots' runner) reads a field with
:func:`stored_value`, which never raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm.attributes import InstrumentedAttribute

# The classes whose fields read freely here and now: the players and groups creating_session
# meets, the group just formed by arrival in its after_all_players_arrive (oTree has just
# created them, and checks only the rows it loaded).
_read_freely: ContextVar[tuple[type, ...]] = ContextVar("grove_null_fields_read_freely", default=())


class NullCheckedField(InstrumentedAttribute[Any]):
    """The class attribute of one declared field: reading None from an instance raises
    TypeError; the class-level attribute (``Player.abc == 3`` in a query) is unchanged."""

    __slots__ = ()
    inherit_cache = True

    def __get__(self, instance: object | None, owner: Any) -> Any:
        if instance is None:
            return self
        values = instance.__dict__
        key = self.key
        value = (
            values[key] if key in values else InstrumentedAttribute.__get__(self, instance, owner)
        )
        if value is None and type(instance) not in _read_freely.get():
            raise TypeError(_message(instance, key))
        return value


def _message(instance: object, name: str) -> str:
    kind = getattr(type(instance), "_grove_kind", type(instance).__name__.lower())
    return (
        f"{kind}.{name} is None: nothing has been assigned to it yet (it has no initial "
        f"value, or the page that asks for it has not been submitted). Reading a field "
        f"that is None is an error, as in oTree; where None is expected, read it with "
        f"{kind}.field_maybe_none('{name}')."
    )


def check_null_reads(cls: type, names: list[str], kind: str) -> None:
    """Make reading any of ``names`` (declared fields of the mapped class ``cls``) raise
    TypeError when the value is None. ``kind`` is how messages name the object
    (``player``, ``group``, ``subsession``). Call once, after the class is mapped."""
    cls._grove_kind = kind  # type: ignore[attr-defined]
    for name in names:
        attribute = cls.__dict__[name]
        if type(attribute) is InstrumentedAttribute:
            attribute.__class__ = NullCheckedField
        elif type(attribute) is not NullCheckedField:
            raise TypeError(f"{cls.__name__}.{name} is not a mapped column attribute")


def stored_value(instance: Any, name: str) -> Any:
    """The value of attribute ``name`` of ``instance``, None included: Grove's own way to read
    a field (never TypeError). Raises AttributeError for a name the object lacks."""
    attribute = getattr(type(instance), name, None)
    if type(attribute) is NullCheckedField:
        return InstrumentedAttribute.__get__(attribute, instance, type(instance))
    return getattr(instance, name)


@contextmanager
def reading_freely(*classes: type) -> Iterator[None]:
    """Within the block, fields of instances of ``classes`` that hold None read as None."""
    token = _read_freely.set(_read_freely.get() + classes)
    try:
        yield
    finally:
        _read_freely.reset(token)
