"""CSV cells a spreadsheet shows as text, never runs as a formula (OWASP "CSV injection").

A participant's text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(``=HYPERLINK(...)``, ``-2+3+cmd|...``) would be a formula once the experimenter opens the
export in Excel or LibreOffice. Every CSV Grove writes passes its cells through
:func:`spreadsheet_cell`, which puts an apostrophe in front of such text; spreadsheets read the
apostrophe as "this is text" and hide it. Numbers stay numbers (``-3`` is written as ``-3``);
JSON answers are not touched. The rule is reversible (:func:`from_spreadsheet_cell`) so a
CSV Grove wrote can be read back (the urn history's import).
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _looks_like_formula(text: str) -> bool:
    # Apostrophes already in front count too, so that escaping stays reversible.
    return text.lstrip("'").startswith(FORMULA_STARTS)


def spreadsheet_cell(value: object) -> object:
    """``value`` for a CSV writer: text that a spreadsheet would run gets a leading ``'``;
    numbers, booleans, None and other text are returned as they are."""
    if isinstance(value, str) and _looks_like_formula(value):
        return "'" + value
    return value


def spreadsheet_row(values: list[object]) -> list[object]:
    """Every cell of a row through :func:`spreadsheet_cell`."""
    return [spreadsheet_cell(value) for value in values]


def from_spreadsheet_cell(text: str) -> str:
    """The text :func:`spreadsheet_cell` was given: the apostrophe it added is removed."""
    if text.startswith("'") and _looks_like_formula(text[1:]):
        return text[1:]
    return text
