"""Whole numbers in a URL's query string, checked before any query uses them.

A number a database compares with a column must fit that column's type: Grove's row ids are
INTEGER, 32 bits on PostgreSQL (which fails the query beyond it; SQLite's driver raises
OverflowError beyond 64 bits). So ``after=99999999999999999999`` or ``after=3000000000`` is
refused with a 400 naming the parameter rather than failing as a server error.
"""

from __future__ import annotations

from server.errors import InvalidArguments

MAX_ID = 2**31 - 1


def row_id_parameter(text: str, name: str) -> int:
    """``text`` as a row id from 0 to 2**31 - 1 (decimal digits only).

    Raises InvalidArguments naming the parameter for anything else (a sign, a blank, letters,
    other scripts' digits, or a number too large).
    """
    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > len(str(MAX_ID)):
        raise InvalidArguments(f"{name} must be a whole number from 0 to {MAX_ID}", field=name)
    value = int(stripped)
    if value > MAX_ID:
        raise InvalidArguments(f"{name} must be a whole number from 0 to {MAX_ID}", field=name)
    return value
