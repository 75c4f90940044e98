"""Which text the database can hold, checked where text comes in rather than when it is written.

PostgreSQL refuses a NUL character in any text column or parameter (SQLite stores it, so a
study that passed its pilot on SQLite would fail in production), and no driver can encode an
unpaired surrogate as UTF-8 (JSON's ``"\\ud800"`` escape decodes to one). A value with either
is refused with a message naming the character, before any row is read or written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")


def unstorable_character(text: str) -> str | None:
    """What no database column can hold in ``text`` ("a NUL character", ...), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "a NUL character"
    return "an unpaired surrogate (a broken \\ud800-\\udfff escape)"


def replace_unstorable(text: str) -> str:
    """``text`` with each character no database holds replaced by U+FFFD, as a browser shows it."""
    return _UNSTORABLE.sub("\ufffd", text)


def unstorable_strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """``(field, message)`` for each unstorable string in nested JSON data, keys included.

    ``field`` names the value by dotted keys (``vars.age``; ``[i]`` for a list item), or the
    object whose key is unstorable; the message says which and why.
    """
    if isinstance(value, str):
        problem = unstorable_character(value)
        if problem is not None:
            yield where, f"{where or 'the value'} cannot contain {problem}"
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = unstorable_character(key) if isinstance(key, str) else None
            if problem is not None:
                owner = f"a key of {where}" if where else "a field name"
                yield where, f"{owner} cannot contain {problem}"
                continue
            yield from unstorable_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from unstorable_strings(item, f"{where}[{index}]")
