"""``safe_json(obj)``: oTree's ``json.dumps`` that also takes Currency values.

As in oTree 6.0.15 (measured; tests/test_safe_json.py): a Currency is written as a whole
number when its currency has no decimal places (points by default: ``cu(3)`` is ``3``) and
as a float otherwise (``RealWorldCurrency(2.5)`` is ``2.5``); everything else is
``json.dumps``'s output, so int keys become strings, tuples lists, NaN ``NaN``, and a
date or a set raises TypeError.
"""

from __future__ import annotations

import json
from typing import Any

from server.currency import Currency

__all__ = ["plain_amounts", "safe_json"]


def plain_amounts(value: Any) -> Any:
    """``value`` with every Currency in it (inside dicts, lists and tuples) as the number
    oTree's JSON writes: an int when its currency has no decimal places, else a float.
    Other values come back as they are (tuples as lists)."""
    # A Currency is a float, so json would write cu(3) as 3.0 without ever asking.
    if isinstance(value, Currency):
        return int(value) if type(value).decimal_places() == 0 else float(value)
    if isinstance(value, dict):
        return {key: plain_amounts(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_amounts(item) for item in value]
    return value


def safe_json(obj: Any) -> str:
    """``obj`` as a JSON text, Currency values as numbers; raises TypeError as json.dumps."""
    return json.dumps(plain_amounts(obj))
