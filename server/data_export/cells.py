"""Export values as CSV cells and JSON values, by oTree's rules (``sanitize_for_csv``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from server.csv_cells import spreadsheet_cell
from server.typed_json import plain


def utc(moment: dt.datetime) -> dt.datetime:
    """A stored time in UTC (SQLite hands back times without their zone; Grove stores UTC)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def json_value(value: Any) -> Any:
    """A stored value as JSON: numbers, text, booleans and null as they are, amounts as
    numbers, times as ISO 8601 text in UTC, vars in their documented JSON form."""
    if isinstance(value, dt.datetime):
        return utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return plain(value)


def csv_value(value: Any) -> Any:
    """A stored value as a CSV cell, as oTree writes it: None empty, booleans 1 and 0, times
    in UTC as ``YYYY-MM-DD HH:MM:SS.ffffff``, line breaks in text as spaces, lists and dicts as
    JSON text; text a spreadsheet would run as a
    formula gets a leading apostrophe (``server/csv_cells.py``)."""
    kind = type(value)
    # The common cells first, without the general conversion (an export has millions).
    if value is None:
        return ""
    if kind is int:
        return value
    if kind is str and "\n" not in value and "\r" not in value:
        return spreadsheet_cell(value)
    if isinstance(value, dt.datetime):
        return str(utc(value).replace(tzinfo=None))  # oTree's: 2026-11-30 13:04:06.828814
    shown = json_value(value)
    if shown is None:
        return ""
    if shown is True:
        return 1
    if shown is False:
        return 0
    if isinstance(shown, list | dict):
        shown = json.dumps(shown, ensure_ascii=False)
    if isinstance(shown, str):
        shown = shown.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return spreadsheet_cell(shown)
