"""Values stored in ``vars`` and ``config`` keep their Python types, without pickle.

oTree pickles ``participant.vars``, ``session.vars`` and ``session.config``, so ``{1: 5}``,
tuples, dates and Currency amounts come back as they went in. Grove stores JSON, which a
request could have written and which is safe to read back, with a tag for every value JSON
cannot say by itself::

    {"__grove__": "tuple", "v": [1, 2]}                     (1, 2)
    {"__grove__": "dict", "v": [[1, 5]]}                    {1: 5} (keys that are not text)
    {"__grove__": "set", "v": [...]}, "frozenset"
    {"__grove__": "datetime", "v": "2026-11-30T10:00:00+00:00"}, "date", "time"
    {"__grove__": "currency", "v": "2.5"}, "money" (RealWorldCurrency), "decimal"
    {"__grove__": "float", "v": "nan"}                      NaN and infinities
    {"__grove__": "bytes", "v": "<base64>"}

A dict whose own key is ``"__grove__"`` is written in the ``"dict"`` form, so nothing a
participant types can be read back as a tag. Any other value (an object, a function, a
model row) cannot be stored: ``encode`` raises UnstorableValue naming where it sits
(``vars['results'][2]``) at write time, not at some later read.

``plain`` gives the documented JSON form the REST API and the exports show: tuples and sets
as lists, non-text keys as text, dates as ISO 8601 strings, amounts as numbers.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from server.currency import Currency, RealWorldCurrency

TAG = "__grove__"


class UnstorableValue(TypeError):
    """A value JSON cannot hold even with Grove's tags; the message names where it is."""


def encode(value: Any, where: str = "value") -> Any:
    """``value`` as JSON data with tags; UnstorableValue for what cannot be stored."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, RealWorldCurrency):
        return {TAG: "money", "v": str(value.decimal)}
    if isinstance(value, Currency):
        return {TAG: "currency", "v": str(value.decimal)}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {TAG: "float", "v": repr(float(value))}
    if isinstance(value, Decimal):
        return {TAG: "decimal", "v": str(value)}
    if isinstance(value, list):
        return [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, tuple):
        return {TAG: "tuple", "v": [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]}
    if isinstance(value, set | frozenset):
        items = [encode(item, f"{where} item") for item in value]
        return {TAG: type(value).__name__, "v": items}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and TAG not in value:
            return {key: encode(item, f"{where}[{key!r}]") for key, item in value.items()}
        return {
            TAG: "dict",
            "v": [
                [encode(key, f"{where} key {key!r}"), encode(item, f"{where}[{key!r}]")]
                for key, item in value.items()
            ],
        }
    if isinstance(value, dt.datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {TAG: "time", "v": value.isoformat()}
    if isinstance(value, bytes):
        return {TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
    raise UnstorableValue(
        f"{where} holds a {type(value).__name__}, which cannot be stored: use numbers, text, "
        "True/False/None, lists, tuples, sets, dicts, dates, times, Decimal or Currency"
    )


_DECODERS: dict[str, Any] = {
    "tuple": lambda v: tuple(decode(item) for item in v),
    "set": lambda v: {decode(item) for item in v},
    "frozenset": lambda v: frozenset(decode(item) for item in v),
    "dict": lambda v: {_hashable(decode(key)): decode(item) for key, item in v},
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "currency": lambda v: Currency(Decimal(v)),
    "money": lambda v: RealWorldCurrency(Decimal(v)),
    "decimal": Decimal,
    "float": float,
    "bytes": lambda v: base64.b64decode(v),
}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def decode(data: Any) -> Any:
    """The Python value ``encode`` was given (plain JSON comes back as it is)."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, dict):
        kind = data.get(TAG)
        if isinstance(kind, str) and set(data) == {TAG, "v"} and kind in _DECODERS:
            return _DECODERS[kind](data["v"])
        return {key: decode(item) for key, item in data.items()}
    return data


def plain(value: Any) -> Any:
    """``value`` in the documented JSON form the API and exports show (see the module)."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, Currency | Decimal):
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(item) for item in value), key=repr)
    if isinstance(value, dict):
        return {
            str(plain(key)) if not isinstance(key, str) else key: plain(item)
            for key, item in value.items()
        }
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


class TypedJSON(sa.types.TypeDecorator[Any]):
    """A JSON column whose values keep their Python types (``encode``/``decode``).

    ``name`` is how errors name the column (``participant.vars``).
    """

    impl = sa.JSON
    cache_ok = True

    def __init__(self, name: str = "value") -> None:
        super().__init__()
        self.name = name

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else encode(value, self.name)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else decode(value)
