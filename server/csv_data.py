"""``read_csv(path, Model)``: a spreadsheet's rows as dicts typed by a model's fields (oTree's).

The rules are oTree 6.0.15's (measured; tests/test_read_csv.py):

- The file is UTF-8, with or without a byte-order mark; the delimiter is "," or ";" (Excel's
  choice in German and other locales), found by ``csv.Sniffer``.
- Each column must be a field of the model (a ``Player``, ``Group``, ``Subsession``, or any
  class declaring ``models.*Field`` attributes); the model's other fields are ignored.
- A value is converted by its field's type: ``int()``, ``float()``, ``Currency()`` (rounded as
  the currency rounds), ``str``; a BooleanField is True for TRUE, True, true or 1 and False
  for anything else. An empty cell is None, except in a text column, where it stays "".

Where oTree fails, Grove is clearer: a file with one column (no delimiter to find) is read
with ",", an error names the file and the line, and a relative path that oTree would read
from the project root (``'my_app/data.csv'``) is found beside the app, in ``apps/``.
"""

from __future__ import annotations

import csv
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.currency import Currency
from server.fields import BooleanField, CurrencyField, Field, FloatField, IntegerField

__all__ = ["CsvDataError", "MissingFieldError", "read_csv"]


class CsvDataError(ValueError):
    """A CSV file that ``read_csv`` cannot turn into typed rows (the message names the file)."""


class MissingFieldError(CsvDataError):
    """The CSV file has a column that is not a field of the model."""


def _read_bool(value: str) -> bool | None:
    if value == "":
        return None
    return value in ("TRUE", "1", "True", "true")


def _read_int(value: str) -> int | None:
    return None if value == "" else int(value)


def _read_float(value: str) -> float | None:
    return None if value == "" else float(value)


def _read_currency(value: str) -> Currency | None:
    return None if value == "" else Currency(value)


def _read_str(value: str) -> str:
    return str(value)


def _converter_of_field(field: Field) -> Callable[[str], Any]:
    # CurrencyField is a FloatField: test it first.
    if isinstance(field, CurrencyField):
        return _read_currency
    if isinstance(field, FloatField):
        return _read_float
    if isinstance(field, IntegerField):
        return _read_int
    if isinstance(field, BooleanField):
        return _read_bool
    return _read_str


def _converter_of_column(column: Any) -> Callable[[str], Any]:
    field = column.info.get("grove_field")
    if isinstance(field, Field):
        return _converter_of_field(field)
    python_type = column.type.python_type
    if python_type is bool:
        return _read_bool
    if python_type is int:
        return _read_int
    if python_type is float:
        return _read_float
    return _read_str


def _converters(type_model: Any) -> dict[str, Callable[[str], Any]]:
    """Column name -> conversion, from a mapped model's columns or a class's declared fields."""
    if isinstance(type_model, type):
        mapper: Any = sa.inspect(type_model, raiseerr=False)
        if mapper is not None:
            return {prop.key: _converter_of_column(prop.columns[0]) for prop in mapper.column_attrs}
        declared = {
            name: value
            for klass in reversed(type_model.__mro__)
            for name, value in vars(klass).items()
            if isinstance(value, Field)
        }
        if declared:
            return {name: _converter_of_field(field) for name, field in declared.items()}
    raise TypeError(
        "read_csv(path, Model): Model must be a Player, Group or Subsession class, or a class "
        f"declaring models.*Field attributes, not {type_model!r}"
    )


def _resolve(path: str | Path, caller_file: str | None) -> Path:
    """The file ``path`` names: as given, else beside the calling app (oTree's project root)."""
    given = Path(path)
    if given.is_absolute() or given.is_file() or caller_file is None:
        return given
    apps_folder = Path(caller_file).resolve().parent.parent
    for base in (apps_folder, apps_folder.parent):
        if (base / given).is_file():
            return base / given
    return given


def read_csv(path: str | Path, type_model: Any) -> list[dict[str, Any]]:
    """The rows of a CSV file as dicts, each value typed by ``type_model``'s field.

    Raises FileNotFoundError, MissingFieldError for a column the model lacks, CsvDataError
    for a value its field cannot hold or a malformed file, TypeError for a wrong model.
    """
    converters = _converters(type_model)
    frame = inspect.currentframe()
    caller = frame.f_back if frame is not None else None
    resolved = _resolve(path, caller.f_globals.get("__file__") if caller is not None else None)
    with resolved.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(1024)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,")
        except csv.Error:
            dialect = csv.excel  # one column: nothing to find
        dialect.strict = True
        handle.seek(0)
        reader = csv.DictReader(handle, dialect=dialect)
        try:
            columns = list(reader.fieldnames or [])
            for column in columns:
                if column not in converters:
                    raise MissingFieldError(
                        f"{path}: CSV file contains column {column!r}, which is not found in "
                        f"model {type_model.__name__}."
                    )
            return [_typed_row(path, reader.line_num, row, converters) for row in reader]
        except csv.Error as exc:
            raise CsvDataError(f"{path}, line {reader.line_num}: {exc}") from None


def _typed_row(
    path: str | Path, line: int, row: dict[Any, Any], converters: dict[str, Callable[[str], Any]]
) -> dict[str, Any]:
    if None in row:
        raise CsvDataError(f"{path}, line {line}: the row has more cells than the header")
    typed = {}
    for column, value in row.items():
        if value is None:
            raise CsvDataError(f"{path}, line {line}: the row has no cell for column {column!r}")
        try:
            typed[column] = converters[column](value)
        except (ValueError, ArithmeticError, TypeError):
            raise CsvDataError(
                f"{path}, line {line}: CSV file contains an incompatible value in column "
                f"{column!r}: {value!r}"
            ) from None
    return typed
