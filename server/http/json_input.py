"""JSON from a request, read strictly: what RFC 8259 allows and what Grove can store.

Python's ``json.loads`` accepts more than JSON, and some of it fails later as a server error:

* ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON; a vars post holding one used to be stored,
  and numbers like ``1e999`` overflow to infinity the same way);
* integers of any length (at 4,300 digits Python's ``int`` refuses with a ValueError). Grove
  takes integers of 64 bits, -2**63 to 2**63 - 1: what an IntegerField and PostgreSQL's
  BIGINT hold, so a posted var can be copied into a field, and what the JSON readers of most
  languages keep exactly;
* nesting of any depth (a RecursionError while parsing, or later while storing). Grove takes
  up to ``MAX_DEPTH`` levels of arrays and objects;
* strings with an unpaired surrogate (``"\\ud800"``), which no database driver can encode.

``loads_strict`` refuses each of these with a JSONInputError whose message says what is wrong
(and where, for a surrogate), so every caller can answer 400.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 100
MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**63 - 1
# Longest text of an integer in range ("-9223372036854775808"); longer ones are not converted.
_MAX_INTEGER_TEXT = 20
_SURROGATE = re.compile("[\\ud800-\\udfff]")


class JSONInputError(ValueError):
    """A request's JSON that Grove refuses; the message says why, ``field`` (dotted keys,
    ``[i]`` for list items) where the problem sits if known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _parse_int(text: str) -> int:
    value = int(text) if len(text) <= _MAX_INTEGER_TEXT else None
    if value is None or not MIN_INTEGER <= value <= MAX_INTEGER:
        shown = text if len(text) <= 30 else f"{text[:12]}...({len(text)} digits)"
        raise JSONInputError(
            f"the integer {shown} is out of range: integers must lie between "
            f"{MIN_INTEGER} and {MAX_INTEGER} (64 bits)"
        )
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError(f"the number {text[:30]} is too large to be stored")
    return value


def _parse_constant(name: str) -> Any:
    raise JSONInputError(f"{name} is not a JSON number: send a finite number, or null")


def _check_values(data: Any) -> None:
    """Depth at most MAX_DEPTH, and no unpaired surrogate in any string or key (no recursion)."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise JSONInputError(
                    f"{where or 'the value'} contains an unpaired surrogate "
                    "(a broken \\ud800-\\udfff escape), which is not text",
                    where or None,
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise JSONInputError(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else key
                if _SURROGATE.search(key):
                    raise JSONInputError(
                        f"a key of {where or 'the object'} contains an unpaired surrogate "
                        "(a broken \\ud800-\\udfff escape), which is not text",
                        where or None,
                    )
                stack.append((item, depth + 1, name))
        else:
            stack.extend((item, depth + 1, f"{where}[{i}]") for i, item in enumerate(value))


def loads_strict(raw: bytes | str) -> Any:
    """The JSON value in ``raw`` (UTF-8 bytes or text), within the limits of the module.

    Raises JSONInputError for invalid UTF-8, invalid JSON, NaN or infinite numbers, integers
    beyond 64 bits, more than MAX_DEPTH levels of nesting and unpaired surrogates.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JSONInputError("the request body is not valid UTF-8") from None
    else:
        text = raw
    try:
        data = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"the request body is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise JSONInputError(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
    if not _plainly_within_limits(text):
        _check_values(data)
    return data


def _plainly_within_limits(text: str) -> bool:
    """Whether the text alone shows that its JSON passes ``_check_values``: no ``\\u``
    escape and no surrogate (so no string or key holds one), and no more brackets than
    MAX_DEPTH (so no deeper nesting). Most request bodies; the walk is for the rest."""
    return (
        "\\u" not in text
        and _SURROGATE.search(text) is None
        and text.count("[") + text.count("{") <= MAX_DEPTH
    )
