"""``models.*Field`` and ``widgets``: what experimenters declare on Player, Group, Subsession.

A field knows its SQL column type and how to turn a submitted form string into a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.currency import Currency


class FieldValueError(ValueError):
    """A submitted value does not fit the field; the message is shown to the participant."""


@dataclass(frozen=True)
class Widget:
    """How a field renders in a form."""

    name: str


class widgets:
    """The widgets oTree offers (``widgets.RadioSelect`` and friends)."""

    RadioSelect = Widget("RadioSelect")
    RadioSelectHorizontal = Widget("RadioSelectHorizontal")
    CheckboxInput = Widget("CheckboxInput")
    TextInput = Widget("TextInput")
    Textarea = Widget("Textarea")
    Select = Widget("Select")


def choice_form_value(value: Any) -> str:
    """The string a browser submits for one choice: the ``value`` attribute Grove renders.

    ``True``/``False`` for booleans and Python's ``str`` for numbers and text, as oTree renders
    them (``1.0`` for a float choice of 1). A Currency choice is its bare amount (``2`` for
    2 points), never the formatted ``2 points``.
    """
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, Currency):
        amount = float(value)
        return str(int(amount)) if amount.is_integer() else repr(amount)
    return str(value)


def normalise_choices(choices: Sequence[Any] | None) -> list[tuple[Any, str]] | None:
    """oTree's choices (plain values or ``[value, label]`` pairs) as ``(value, label)`` pairs.

    Raises ValueError for a pair of the wrong length or two choices that would submit the
    same string (for example ``1`` and ``"1"``).
    """
    if choices is None:
        return None
    pairs: list[tuple[Any, str]] = []
    for choice in choices:
        if isinstance(choice, list | tuple):
            if len(choice) != 2:
                raise ValueError(f"a choice must be a value or a (value, label) pair: {choice!r}")
            pairs.append((choice[0], str(choice[1])))
        else:
            pairs.append((choice, str(choice)))
    submitted = [choice_form_value(value) for value, _ in pairs]
    duplicates = sorted({s for s in submitted if submitted.count(s) > 1})
    if duplicates:
        raise ValueError(f"two choices submit the same value {duplicates[0]!r}: {choices!r}")
    return pairs


class Field:
    """Base class of every model field; subclasses fix the Python and SQL type."""

    sql_type: Any = sa.String
    python_type: type = str
    kind = "string"

    def __init__(
        self,
        *,
        label: str | None = None,
        initial: Any = None,
        blank: bool = False,
        choices: Sequence[Any] | None = None,
        min: Any = None,
        max: Any = None,
        doc: str = "",
        widget: Widget | type | None = None,
        max_length: int | None = None,
        verbose_name: str | None = None,
    ) -> None:
        self.label = label if label is not None else verbose_name
        self.initial = initial
        self.blank = blank
        self.choices = normalise_choices(choices)
        self.min = min
        self.max = max
        self.doc = doc
        self.widget = widget
        self.max_length = max_length
        self.name = ""

    def column(self, name: str) -> sa.Column:
        """The SQL column holding this field."""
        return sa.Column(name, self.sql_type(), nullable=True, default=self.initial)

    def widget_name(self, has_choices: bool) -> str:
        """The name of the widget this field renders with."""
        if isinstance(self.widget, Widget):
            return self.widget.name
        if has_choices:
            return "Select"
        return "TextInput"

    def convert(self, raw: str) -> Any:
        """Turn a non-empty submitted string into this field's Python value."""
        return raw

    def to_python(self, value: Any) -> Any:
        """Normalise a stored value (for example a float into Currency)."""
        return value

    def clean(
        self,
        raw: str | None,
        choices: list[tuple[Any, str]] | None,
        minimum: Any,
        maximum: Any,
    ) -> Any:
        """Validate one submitted value; raise FieldValueError with a participant-facing message."""
        if raw is None or raw.strip() == "":
            if self.blank:
                return None
            raise FieldValueError("This field is required.")
        if choices is not None:
            return self.choose(raw, choices)
        value = self.convert(raw.strip() if self.kind != "longstring" else raw)
        if minimum is not None and value < minimum:
            raise FieldValueError(f"Ensure this value is greater than or equal to {minimum}.")
        if maximum is not None and value > maximum:
            raise FieldValueError(f"Ensure this value is less than or equal to {maximum}.")
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            raise FieldValueError(f"Ensure this value has at most {self.max_length} characters.")
        return value

    def choose(self, raw: str, choices: list[tuple[Any, str]]) -> Any:
        """The choice a submitted string stands for.

        A browser submits a choice's ``value`` attribute (``choice_form_value``); a script or
        bot may post an equivalent spelling (``1`` for ``1.0``, ``true``), which is converted
        and compared. Anything else: FieldValueError.
        """
        for value, _ in choices:
            if choice_form_value(value) == raw:
                return value
        try:
            converted = self.convert(raw.strip())
        except FieldValueError:
            converted = raw
        for value, _ in choices:
            if type(value) is not bool and type(converted) is not bool and value == converted:
                return value
            if type(value) is type(converted) is bool and value is converted:
                return value
        raise FieldValueError("Select a valid choice.")


class IntegerField(Field):
    """A whole number (``models.IntegerField``)."""

    sql_type = sa.Integer
    python_type = int
    kind = "integer"

    def convert(self, raw: str) -> int:
        try:
            return int(raw)
        except ValueError:
            try:
                as_float = float(raw)
            except ValueError:
                raise FieldValueError("Enter a whole number.") from None
            if as_float.is_integer():
                return int(as_float)
            raise FieldValueError("Enter a whole number.") from None


class FloatField(Field):
    """A decimal number (``models.FloatField``)."""

    sql_type: Any = sa.Float
    python_type = float
    kind = "float"

    def convert(self, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise FieldValueError("Enter a number.") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise FieldValueError("Enter a number.")
        return value


class CurrencyType(sa.types.TypeDecorator):
    """A float column whose values come back as Currency."""

    impl = sa.Float
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> float | None:
        return None if value is None else float(value)

    def process_result_value(self, value: Any, dialect: Any) -> Currency | None:
        return None if value is None else Currency(value)


class CurrencyField(FloatField):
    """An amount of currency or points (``models.CurrencyField``)."""

    sql_type = CurrencyType
    kind = "currency"

    def convert(self, raw: str) -> Currency:
        return Currency(super().convert(raw.replace(",", "")))

    def to_python(self, value: Any) -> Any:
        return None if value is None else Currency(value)


class StringField(Field):
    """A short text (``models.StringField``), 10,000 characters at most."""

    sql_type = sa.Text
    kind = "string"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10000)
        super().__init__(**kwargs)


class LongStringField(Field):
    """A long text, rendered as a text area (``models.LongStringField``)."""

    sql_type = sa.Text
    kind = "longstring"

    def widget_name(self, has_choices: bool) -> str:
        if isinstance(self.widget, Widget):
            return self.widget.name
        return "Textarea"


class BooleanField(Field):
    """Yes or no (``models.BooleanField``).

    As in oTree: radio buttons Yes/No, one per line, unless ``choices`` or a widget say
    otherwise; with ``widgets.CheckboxInput`` an unticked box is False (never "required").
    """

    sql_type = sa.Boolean
    python_type = bool
    kind = "boolean"

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("choices") is None and kwargs.get("widget") is not widgets.CheckboxInput:
            kwargs["choices"] = [(True, "Yes"), (False, "No")]
        super().__init__(**kwargs)

    def widget_name(self, has_choices: bool) -> str:
        if isinstance(self.widget, Widget):
            return self.widget.name
        return "RadioSelect"

    def clean(
        self, raw: str | None, choices: list[tuple[Any, str]] | None, minimum: Any, maximum: Any
    ) -> Any:
        if self.widget is widgets.CheckboxInput:
            # A ticked box submits its value (Grove renders "True"; a hand-written box "on"),
            # an unticked one nothing. Same reading as oTree's.
            return raw is not None and raw.strip() not in ("", "0", "False", "false")
        return super().clean(raw, choices, minimum, maximum)

    def convert(self, raw: str) -> bool:
        # "on" is what a radio button without a value submits, whichever was clicked: it
        # says nothing about the answer, so it is refused rather than read as True.
        lowered = raw.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise FieldValueError("Select a valid choice.")


class models:
    """The field types experimenters use as ``models.IntegerField(...)``."""

    IntegerField = IntegerField
    FloatField = FloatField
    CurrencyField = CurrencyField
    StringField = StringField
    LongStringField = LongStringField
    BooleanField = BooleanField
