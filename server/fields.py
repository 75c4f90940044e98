"""``models.*Field`` and ``widgets``: what experimenters declare on Player, Group, Subsession.

A field knows its SQL column type and how to turn a submitted form string into a value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import sqlalchemy as sa

from server.currency import FORMAT, Currency, input_unit_label
from server.storable_text import unstorable_character


class FieldValueError(ValueError):
    """A submitted value does not fit the field; the message is shown to the participant.

    ``read`` is the value the text was read as when it was read but refused (out of range),
    which the form then shows as oTree does (``11.00`` for an amount typed ``11``); None
    when the text could not be read.
    """

    def __init__(self, message: str, read: Any = None) -> None:
        super().__init__(message)
        self.read = read


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
    # True when the choices are Grove's own (a BooleanField's Yes/No), translated when shown.
    default_choices = False

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
                # oTree stores "" for a text field submitted empty, a select of text choices
                # left on its empty option included (its DropdownField coerces with str);
                # None for anything else (a radio group with nothing checked submits nothing).
                text = self.kind in ("string", "longstring")
                return "" if text and raw is not None else None
            raise FieldValueError("This field is required.")
        if choices is not None:
            return self.choose(raw, choices)
        value = self.convert(raw.strip() if self.kind != "longstring" else raw)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise FieldValueError(out_of_range_message(minimum, maximum), read=value)
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            raise FieldValueError(too_long_message(self.max_length))
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
        raise FieldValueError("Not a valid choice")


INTEGER_MIN = -(2**63)
INTEGER_MAX = 2**63 - 1


def too_long_message(max_length: int) -> str:
    """oTree 6's words for a text longer than ``max_length`` (WTForms' ``Length``)."""
    unit = "character" if max_length == 1 else "characters"
    return f"Field cannot be longer than {max_length} {unit}."


def out_of_range_message(minimum: Any, maximum: Any) -> str:
    """oTree 6's words for a number outside a field's ``min``/``max`` (WTForms'
    ``NumberRange``, which oTree's forms use): both bounds when the field has both, else the
    one it has; each bound printed with ``str`` (``10 points`` for an amount)."""
    if maximum is None:
        return f"Number must be at least {minimum}."
    if minimum is None:
        return f"Number must be at most {maximum}."
    return f"Number must be between {minimum} and {maximum}."


class NumberInput(NamedTuple):
    """The ``<input>`` oTree gives a number field, so a browser accepts what the server does.

    ``type`` is "number" for whole numbers (a browser refuses 12.5 with its default step of
    1) and "text" where decimals are typed (a number input would refuse "2,5");
    ``inputmode`` is the phone keyboard, set only when the minimum is 0 or more (the numeric
    keyboards have no minus sign).
    """

    type: str
    inputmode: str


class NumberField(Field):
    """What IntegerField, FloatField and CurrencyField share: their input and value checks,
    and the implicit ``min=0`` of oTree 5.10+ (oTree's version history, "Version 5.10")."""

    def __init__(self, *, min: Any = 0, **kwargs: Any) -> None:
        """``min`` defaults to 0, as in oTree 5.10 and later: a field declared without it
        refuses negative answers (and renders ``min="0"``); ``min=None`` or a negative
        ``min`` lets them in. The bound applies to forms only, not to values set in code."""
        super().__init__(min=min, **kwargs)
        # A wrong initial value fails when the app loads, not when the first session starts.
        self.check_value(self.initial, f"{type(self).__name__}(initial=...)")

    def number_input(self) -> NumberInput:
        """The input type and phone keyboard of this field (oTree's)."""
        raise NotImplementedError

    def form_text(self, value: Any) -> str:
        """The text an input shows for a value: a stored number in the language's notation,
        a string (what the participant typed into a refused form) unchanged."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        return self.format_number(value)

    def format_number(self, value: Any) -> str:
        """A stored number as the input shows it."""
        raise NotImplementedError

    def unit_label(self) -> str | None:
        """A word or symbol shown beside the input (the currency's), or None."""
        return None

    def check_value(self, value: Any, where: str) -> Any:
        """A value assigned in code, normalised; TypeError or ValueError naming ``where``."""
        raise NotImplementedError


class Int64(sa.types.TypeDecorator):
    """A 64-bit signed integer column: BIGINT on PostgreSQL, INTEGER on SQLite (64 bits there
    too, and the type SQLite's own integer columns have). Refuses values out of range."""

    impl = sa.BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Integer())
        return dialect.type_descriptor(sa.BigInteger())

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        return IntegerField.check_int(value, "an IntegerField column")


class FiniteFloat(sa.types.TypeDecorator):
    """A float column that refuses NaN and infinity (SQLite would store NaN as NULL)."""

    impl = sa.Float
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> float | None:
        return FloatField.check_float(value, "a FloatField column")


class IntegerField(NumberField):
    """A whole number from -2**63 to 2**63-1 (``models.IntegerField``), on every database.

    oTree's column is an INTEGER, 32 bits on PostgreSQL (3000000000 cannot be stored there),
    and it answers 500 for 2**63 typed on SQLite; Grove refuses anything out of range beside
    the field instead.
    """

    sql_type: Any = Int64
    python_type = int
    kind = "integer"

    def convert(self, raw: str) -> int:
        """The submitted text as an int; FieldValueError else.

        As oTree's: only a whole number's digits ("4", "-4"); "4.0" and "1e3" are refused,
        as a browser's number input with step 1 refuses them too.
        """
        try:
            value = int(raw)
        except ValueError:
            raise FieldValueError("Not a valid integer value") from None
        if value > INTEGER_MAX:
            raise FieldValueError(f"Ensure this value is less than or equal to {INTEGER_MAX}.")
        if value < INTEGER_MIN:
            raise FieldValueError(f"Ensure this value is greater than or equal to {INTEGER_MIN}.")
        return value

    def number_input(self) -> NumberInput:
        return NumberInput("number", "numeric")

    def format_number(self, value: Any) -> str:
        return str(int(value))

    def check_value(self, value: Any, where: str) -> int | None:
        return self.check_int(value, where)

    @staticmethod
    def check_int(value: Any, where: str) -> int | None:
        """``value`` as an int in the 64-bit range (a whole float or Decimal is converted).

        TypeError for a string or other non-number, ValueError for a fraction or a number
        out of range; the message names ``where`` (for example ``Player.age``).
        """
        if value is None:
            return None
        if isinstance(value, numbers.Integral):
            number = int(value)
        elif isinstance(value, numbers.Real | Decimal):
            exact = value if isinstance(value, Decimal) else Decimal(float(value))
            if not exact.is_finite() or exact != exact.to_integral_value():
                raise ValueError(f"{where} must be a whole number, not {value!r}")
            number = int(exact)
        else:
            raise TypeError(f"{where} must be an int, not {type(value).__name__} {value!r}")
        if not INTEGER_MIN <= number <= INTEGER_MAX:
            raise ValueError(
                f"{where} = {number} is out of range: an IntegerField holds whole numbers from "
                f"{INTEGER_MIN} to {INTEGER_MAX}"
            )
        return number


class FloatField(NumberField):
    """A finite decimal number (``models.FloatField``).

    A comma is read as the decimal point ("2,5" is 2.5), in every language, as oTree reads
    it; NaN and infinity ("nan", "inf", "1e999") are refused (oTree stores them).
    """

    sql_type: Any = FiniteFloat
    python_type = float
    kind = "float"

    def convert(self, raw: str) -> float:
        """The submitted text as a float; FieldValueError if it is none or not finite."""
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            raise FieldValueError("Not a valid float value") from None
        if math.isnan(value) or (math.isinf(value) and "inf" in raw.lower()):
            raise FieldValueError("Enter a number.")
        if math.isinf(value):
            raise FieldValueError("This number is too large.")
        return value

    def number_input(self) -> NumberInput:
        return NumberInput("text", "decimal")

    def format_number(self, value: Any) -> str:
        return str(float(value)).replace(".", FORMAT.decimal_separator)

    def check_value(self, value: Any, where: str) -> float | None:
        return self.check_float(value, where)

    @staticmethod
    def check_float(value: Any, where: str) -> float | None:
        """``value`` as a finite float; TypeError for a non-number, ValueError for NaN/inf."""
        if value is None:
            return None
        if not isinstance(value, numbers.Real | Decimal):
            raise TypeError(f"{where} must be a float, not {type(value).__name__} {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{where} must be a finite number, not {number!r}")
        return number


class CurrencyType(sa.types.TypeDecorator):
    """A float column whose values come back as Currency (rounded per the settings)."""

    impl = sa.Float
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> float | None:
        checked = CurrencyField.check_currency(value, "a CurrencyField column")
        return None if checked is None else float(checked)

    def process_result_value(self, value: Any, dialect: Any) -> Currency | None:
        return None if value is None else Currency(value)


class CurrencyField(FloatField):
    """An amount of currency or points (``models.CurrencyField``), rounded as Currency rounds.

    The typed text is read as a decimal (a comma as the decimal point) and rounded half up to
    the currency's places before ``min``/``max`` are checked, as oTree does: 12.5 points is 13
    and refused by ``max=12``, 12.4 is 12.
    """

    sql_type = CurrencyType
    kind = "currency"

    def convert(self, raw: str) -> Currency:
        """The submitted text as a Currency; FieldValueError if it is not a finite number."""
        try:
            exact = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise FieldValueError("Not a valid decimal value") from None
        if not exact.is_finite():
            raise FieldValueError("Enter a number.")
        try:
            return Currency(exact)
        except OverflowError:
            raise FieldValueError("This number is too large.") from None

    def to_python(self, value: Any) -> Any:
        return None if value is None else Currency(value)

    def number_input(self) -> NumberInput:
        """oTree's: a number input for whole amounts, a text input when there are decimals."""
        if FORMAT.places == 0:
            return NumberInput("number", "numeric")
        return NumberInput("text", "decimal")

    def format_number(self, value: Any) -> str:
        """The amount with all its places, no thousands separator ("12,50" in German)."""
        amount = Currency(value).decimal
        return f"{amount:.{FORMAT.places}f}".replace(".", FORMAT.decimal_separator)

    def unit_label(self) -> str | None:
        return input_unit_label()

    def check_value(self, value: Any, where: str) -> Currency | None:
        return self.check_currency(value, where)

    @staticmethod
    def check_currency(value: Any, where: str) -> Currency | None:
        """``value`` as a Currency; TypeError for a non-number, ValueError for NaN/inf."""
        if value is None:
            return None
        if not isinstance(value, numbers.Real | Decimal):
            raise TypeError(f"{where} must be a Currency, not {type(value).__name__} {value!r}")
        try:
            return Currency(value)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"{where}: {exc}") from None


def storable_text(raw: str) -> str:
    """A typed text as it is stored; FieldValueError for a character no database can hold
    (PostgreSQL refuses NUL), beside the field instead of a server error."""
    problem = unstorable_character(raw)
    if problem is not None:
        raise FieldValueError(f"This field cannot contain {problem}.")
    return raw


def check_text(value: Any, where: str) -> Any:
    """A text app code assigns to a string field, checked at the assignment: ValueError
    naming ``where`` for a character no database stores (PostgreSQL refuses a NUL with a
    server error at commit; SQLite keeps it)."""
    if isinstance(value, str):
        problem = unstorable_character(value)
        if problem:
            raise ValueError(f"{where} cannot hold {problem}: {value!r}")
    return value


class StringField(Field):
    """A short text (``models.StringField``), 10,000 characters at most."""

    sql_type = sa.Text
    kind = "string"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10000)
        super().__init__(**kwargs)

    def convert(self, raw: str) -> str:
        return storable_text(raw)


class LongStringField(Field):
    """A long text, rendered as a text area (``models.LongStringField``)."""

    sql_type = sa.Text
    kind = "longstring"

    def convert(self, raw: str) -> str:
        return storable_text(raw)

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
        use_yes_no = (
            kwargs.get("choices") is None and kwargs.get("widget") is not widgets.CheckboxInput
        )
        if use_yes_no:
            kwargs["choices"] = [(True, "Yes"), (False, "No")]
        super().__init__(**kwargs)
        self.default_choices = use_yes_no

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
        raise FieldValueError("Not a valid choice")


class Link:
    """An ExtraModel's link to another row (``player = models.Link(Player)``).

    Stored as the column ``<name>_id``, a foreign key to the target's table that deletes the
    ExtraModel's row with the row it links to (oTree's ``models.Link``). The target is an
    app's Player, Group or Subsession, another ExtraModel, or a participant or session.
    """

    def __init__(self, to: type) -> None:
        if not isinstance(to, type):
            raise TypeError(f"models.Link takes a model class, not {to!r}")
        self.to = to
        self.name = ""


class models:
    """The field types experimenters use as ``models.IntegerField(...)``."""

    IntegerField = IntegerField
    FloatField = FloatField
    CurrencyField = CurrencyField
    StringField = StringField
    LongStringField = LongStringField
    BooleanField = BooleanField
    Link = Link
