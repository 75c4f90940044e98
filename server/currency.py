"""Currency values (oTree's ``Currency``/``cu``): rounded as oTree rounds, printed per language.

Rules, all taken from oTree 6.0.15 (measured, see tests/test_numbers.py):

- An amount is a decimal number rounded half up (``decimal.ROUND_HALF_UP``, away from zero on
  a tie) to the currency's places: ``POINTS_DECIMAL_PLACES`` (default 0) with ``USE_POINTS``,
  else ``REAL_WORLD_CURRENCY_DECIMAL_PLACES`` (default 2; 0 for JPY, KRW, HUF, ...). So
  ``cu(0.5)`` is 1 point, ``cu(2.5)`` 3 points, ``cu(-2.5)`` -3, ``cu(0.125)`` $0.13.
- A float is read by its exact binary value (``Decimal.from_float``), a string by its digits:
  ``cu(2.675)`` is $2.67 (the float is 2.67499...), ``cu("2.675")`` $2.68.
- Every operation (``+ - * / // % **``, unary minus, ``abs``) computes in decimal on the exact
  amounts and rounds the result the same way, and the result has the left Currency's type:
  ``cu(7) / 2`` is 4 points, ``0.5 + cu(3)`` 4 points, ``cu(0.35) / 2`` $0.18.
- Printed per ``LANGUAGE_CODE``: "1 point", "3 Punkte"; "$2.50", "2,50 €", "€ 2,50" (de-AT);
  decimal comma except in ar, en, he, ja, ko, ms, th, zh; no thousands separator unless
  ``THOUSAND_SEPARATOR`` is set.

A Currency is still a ``float`` (the value nearest the exact amount) so JSON, SQL and plain
float code keep working; comparisons and ``==`` are float comparisons.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from server.config import Settings

# Currencies oTree shows without decimals when REAL_WORLD_CURRENCY_DECIMAL_PLACES is not set.
_WHOLE_UNIT_CURRENCIES = frozenset({"KRW", "JPY", "HUF", "IRR", "COP", "VND", "IDR"})

# The symbol of a currency; any other code prints as itself ("XYZ 2,50").
_SYMBOLS = {
    "AED": "AED",
    "ARS": "$",
    "AUD": "$",
    "BRL": "R$",
    "CAD": "$",
    "CHF": "CHF",
    "CNY": "元",
    "CZK": "Kč",
    "DKK": "kr",
    "EGP": "ج.م.\u200f",
    "EUR": "€",
    "GBP": "£",
    "HKD": "HK$",
    "HUF": "Ft",
    "ILS": "₪",
    "INR": "₹",
    "JPY": "円",
    "KRW": "원",
    "MXN": "$",
    "MYR": "RM",
    "NOK": "kr",
    "PLN": "zł",
    "RUB": "₽",
    "SEK": "kr",
    "SGD": "SGD",
    "THB": "THB",
    "TRY": "₺",
    "TWD": "$",
    "USD": "$",
    "ZAR": "R",
}

# Where the symbol (¤) goes around the number (#), per language, with exceptions per currency
# (a whole pattern may replace the symbol). A "language-REGION" key refines its language.
_MONEY_PATTERNS: dict[str, tuple[str, dict[str, str]]] = {
    "en": ("¤#", {"INR": "¤ #", "SGD": "$#", "CNY": "#¤", "JPY": "#¤", "KRW": "#¤"}),
    "zh": ("¤#", {"CNY": "#¤", "HKD": "HK$#", "TWD": "$#", "SGD": "SGD#"}),
    "de": ("¤ #", {"EUR": "# ¤"}),
    "de-AT": ("¤ #", {}),
    "es": ("# ¤", {"ARS": "$ #", "MXN": "$#"}),
    "nl": ("¤ #", {}),
    "nl-BE": ("# ¤", {}),
    "pt": ("¤#", {"EUR": "# ¤"}),
    "ar": ("¤ #", {"AED": "د.إ.\u200f #"}),
    "cs": ("# ¤", {}),
    "da": ("# ¤", {"DKK": "# kr."}),
    "fi": ("# ¤", {}),
    "fr": ("# ¤", {}),
    "he": ("# ¤", {}),
    "hu": ("# ¤", {}),
    "it": ("# ¤", {}),
    "ja": ("¤#", {"JPY": "#¤"}),
    "ko": ("¤#", {"KRW": "#¤"}),
    "ms": ("¤#", {}),
    "nb": ("¤ #", {}),
    "pl": ("# ¤", {}),
    "ru": ("# ¤", {}),
    "sv": ("# ¤", {}),
    "th": ("¤#", {"THB": "฿#"}),
    "tr": ("# ¤", {}),
    "hi": ("¤#", {}),
}
_DEFAULT_MONEY_PATTERN = "# ¤"

_DECIMAL_POINT_LANGUAGES = frozenset({"ar", "en", "he", "ja", "ko", "ms", "th", "zh"})


def _one_other(n: Decimal) -> int:
    return 0 if n == 1 else 1


def _french(n: Decimal) -> int:
    return 1 if n > 1 else 0


def _single(n: Decimal) -> int:
    return 0


def _russian(n: Decimal) -> int:
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and (n % 100 < 10 or n % 100 >= 20):
        return 1
    return 2


def _czech(n: Decimal) -> int:
    if n == 1:
        return 0
    return 1 if 2 <= n <= 4 else 2


def _arabic(n: Decimal) -> int:
    return 0 if n == 0 else 1


@dataclass(frozen=True)
class _PointWords:
    """How a language names points: amount templates per plural form, and the input's label."""

    forms: tuple[str, ...]
    plural: Callable[[Decimal], int]
    label: str


# oTree's translations of "{} point"/"{} points" and of the "points" label beside an input.
_POINT_WORDS = {
    "en": _PointWords(("{} point", "{} points"), _one_other, "points"),
    "ar": _PointWords(("{} نقطة", "{} نقاط"), _arabic, "نقاط"),
    "cs": _PointWords(("{} bod", "{} body", "{} bodů"), _czech, "bodů"),
    "de": _PointWords(("{} Punkt", "{} Punkte"), _one_other, "Punkte"),
    "es": _PointWords(("{} punto", "{} puntos"), _one_other, "puntos"),
    "fi": _PointWords(("{} piste", "{} pistettä"), _one_other, "pistettä"),
    "fr": _PointWords(("{} point", "{} points"), _french, "points"),
    "he": _PointWords(("{} נקודה", "{} נקודות"), _one_other, "נקודות"),
    "hi": _PointWords(("{} अंक",), _single, "अंक"),
    "hu": _PointWords(("{} pont", "{} pontok"), _one_other, "pontok"),
    "id": _PointWords(("{} poin",), _single, "poin"),
    "it": _PointWords(("{} punto", "{} punti"), _one_other, "punti"),
    "ja": _PointWords(("{}ポイント",), _single, "ポイント"),
    "ko": _PointWords(("{} 포인트",), _single, "포인트"),
    "nb": _PointWords(("{} poeng",), _single, "poeng"),
    "nl": _PointWords(("{} punt", "{} punten"), _one_other, "punten"),
    "pl": _PointWords(("{} punkt", "{} punkty"), _one_other, "punkty"),
    "pt": _PointWords(("{} ponto", "{} pontos"), _one_other, "pontos"),
    "ru": _PointWords(("{} очко", "{} очка", "{} очков"), _russian, "очков"),
    "tr": _PointWords(("{} Puan", "{} Puanlar"), _one_other, "puan"),
    "zh": _PointWords(("{}点",), _single, "点"),
}


def default_real_world_places(currency_code: str) -> int:
    """oTree's REAL_WORLD_CURRENCY_DECIMAL_PLACES when settings.py leaves it out: 0 or 2."""
    return 0 if currency_code.upper() in _WHOLE_UNIT_CURRENCIES else 2


@dataclass
class CurrencyFormat:
    """How currency amounts round and print; set once by ``configure_currency``."""

    use_points: bool = True
    currency_code: str = "USD"
    points_decimal_places: int = 0
    real_world_decimal_places: int = 2
    language_code: str = "en"
    thousand_separator: str = ""
    points_custom_name: str | None = None

    @property
    def places(self) -> int:
        """Decimal places of ``Currency`` (points or money, per ``use_points``)."""
        return self.points_decimal_places if self.use_points else self.real_world_decimal_places

    @property
    def language(self) -> str:
        """The language part of LANGUAGE_CODE, lower case ("de" for "de-AT")."""
        return self.language_code.split("-")[0].lower()

    @property
    def decimal_separator(self) -> str:
        """The decimal point: "." in ar, en, he, ja, ko, ms, th and zh, else "," (oTree)."""
        return decimal_separator_of(self.language)


FORMAT = CurrencyFormat()


def decimal_separator_of(language_code: str) -> str:
    """The decimal point of a LANGUAGE_CODE: "." in ar, en, he, ja, ko, ms, th and zh, else ","
    (oTree's rule; "de-AT" reads as "de")."""
    language = language_code.split("-")[0].lower()
    return "." if language in _DECIMAL_POINT_LANGUAGES else ","


def configure_currency(
    use_points: bool,
    currency_code: str,
    points_places: int = 0,
    real_places: int = 2,
    *,
    language_code: str = "en",
    thousand_separator: str = "",
    points_custom_name: str | None = None,
) -> None:
    """Set how Currency values round and print (called from create_app and the CLI)."""
    FORMAT.use_points = use_points
    FORMAT.currency_code = currency_code
    FORMAT.points_decimal_places = points_places
    FORMAT.real_world_decimal_places = real_places
    FORMAT.language_code = language_code
    FORMAT.thousand_separator = thousand_separator
    FORMAT.points_custom_name = points_custom_name


def configure_currency_from(settings: Settings) -> None:
    """``configure_currency`` with every currency setting of ``settings`` (server and CLI)."""
    configure_currency(
        settings.use_points,
        settings.real_world_currency_code,
        settings.points_decimal_places,
        settings.real_world_currency_decimal_places,
        language_code=settings.language_code,
        thousand_separator=settings.thousand_separator,
        points_custom_name=settings.points_custom_name,
    )


def format_number(amount: Decimal | float | int, places: int) -> str:
    """``amount`` with ``places`` decimals in the language's separators ("1234,50" in de)."""
    text = f"{amount:,.{places}f}"
    separators = {",": FORMAT.thousand_separator, ".": FORMAT.decimal_separator}
    return "".join(separators.get(char, char) for char in text)


def points_label() -> str:
    """The word beside a points input ("points", "Punkte", or POINTS_CUSTOM_NAME)."""
    if FORMAT.points_custom_name:
        return FORMAT.points_custom_name
    return _POINT_WORDS.get(FORMAT.language, _POINT_WORDS["en"]).label


def currency_symbol() -> str:
    """The symbol of REAL_WORLD_CURRENCY_CODE ("€"), or the code itself when it has none."""
    return _SYMBOLS.get(FORMAT.currency_code, FORMAT.currency_code)


def input_unit_label() -> str:
    """What a CurrencyField's input shows beside it: the points word or the money symbol."""
    return points_label() if FORMAT.use_points else currency_symbol()


def _format_points(amount: Decimal, places: int) -> str:
    number = format_number(amount, places)
    if FORMAT.points_custom_name:
        return f"{number} {FORMAT.points_custom_name}"
    words = _POINT_WORDS.get(FORMAT.language, _POINT_WORDS["en"])
    return words.forms[min(words.plural(amount), len(words.forms) - 1)].format(number)


def _money_pattern() -> str:
    code = FORMAT.currency_code
    parts = FORMAT.language_code.split("-")
    keys = [FORMAT.language]
    if len(parts) > 1:
        keys.insert(0, f"{FORMAT.language}-{parts[1].upper()}")
    for key in keys:
        if key in _MONEY_PATTERNS:
            default, by_currency = _MONEY_PATTERNS[key]
            return by_currency.get(code, default)
    return _DEFAULT_MONEY_PATTERN


def _format_money(amount: Decimal, places: int) -> str:
    number = format_number(abs(amount), places)
    text = _money_pattern().replace("¤", currency_symbol()).replace("#", number)
    return f"-{text}" if amount < 0 else text


# oTree computes in Python's default decimal context (28 significant digits); rounding to the
# currency's places needs room for any finite float (up to 309 integer digits).
_ARITHMETIC = Context(prec=28)
_ROUNDING = Context(prec=400, rounding=ROUND_HALF_UP)


def _to_decimal(value: Any, *, strings: bool) -> Decimal:
    """The exact decimal of a number (a float by its binary value); TypeError for others."""
    if isinstance(value, Currency):
        return value._exact
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal.from_float(value)
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    if isinstance(value, numbers.Real):
        return Decimal.from_float(float(value))
    if strings and isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    raise TypeError(f"a Currency amount must be a number, not {type(value).__name__}")


def _round(amount: Decimal, places: int) -> Decimal:
    """Round half up to ``places``; ValueError if not finite, OverflowError beyond a float."""
    if not amount.is_finite():
        raise ValueError(f"a Currency amount must be a finite number, not {amount}")
    if math.isinf(float(amount)):
        raise OverflowError(f"{amount} is too large for a Currency amount")
    rounded = amount.quantize(Decimal(1).scaleb(-places), context=_ROUNDING)
    # -0.4 rounds to -0; print and store it as 0 (oTree prints "-0 points").
    return rounded.copy_abs() if rounded.is_zero() else rounded


def _operator(
    name: str, compute: Callable[[Decimal, Decimal], Decimal], *, reflected: bool = False
) -> Callable[[Currency, Any], Any]:
    def method(self: Currency, other: Any) -> Any:
        try:
            other_exact = _to_decimal(other, strings=False)
        except TypeError:
            return NotImplemented
        left, right = (other_exact, self._exact) if reflected else (self._exact, other_exact)
        try:
            result = compute(left, right)
        except DivisionByZero:
            raise ZeroDivisionError(f"Currency {name} by zero") from None
        return type(self)(result)

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


class Currency(float):
    """An amount of points or money: oTree's ``Currency`` (``cu``), rounded as oTree rounds.

    ``Currency(value)`` takes an int, float, Decimal, Currency or numeric string and rounds it
    half up to the currency's decimal places; ValueError for NaN, infinity or a non-numeric
    string, OverflowError beyond a float's range.
    """

    __slots__ = ("_exact",)
    _exact: Decimal

    def __new__(cls, value: Any = 0) -> Self:
        exact = _round(_to_decimal(value, strings=True), cls.decimal_places())
        amount = float.__new__(cls, exact)
        amount._exact = exact
        return amount

    @classmethod
    def decimal_places(cls) -> int:
        """The places amounts of this class round to (points or money, per the settings)."""
        return FORMAT.places

    @property
    def decimal(self) -> Decimal:
        """The exact amount, for example ``Decimal("2.50")``."""
        return self._exact

    def __reduce__(self) -> tuple[type[Self], tuple[str]]:
        return (type(self), (str(self._exact),))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: Any) -> Self:
        return self

    def __str__(self) -> str:
        if FORMAT.use_points:
            return _format_points(self._exact, FORMAT.points_decimal_places)
        return _format_money(self._exact, FORMAT.real_world_decimal_places)

    def __repr__(self) -> str:
        """oTree's repr, which a template shows for each amount in a list: ``7cu``,
        ``-2cu``, ``0.75cu`` for money (the exact amount, at its places, then ``cu``)."""
        return f"{self._exact}cu"

    def format_places(self, places: int) -> str:
        """The amount printed with ``places`` decimals: oTree's ``to0``..``to3`` filters."""
        if FORMAT.use_points:
            return _format_points(self._exact, places)
        return _format_money(self._exact, places)

    def __format__(self, spec: str) -> str:
        return str(self) if spec in ("", "s") else format(self._exact, spec)

    __add__ = _operator("add", _ARITHMETIC.add)
    __radd__ = _operator("add", _ARITHMETIC.add, reflected=True)
    __sub__ = _operator("sub", _ARITHMETIC.subtract)
    __rsub__ = _operator("sub", _ARITHMETIC.subtract, reflected=True)
    __mul__ = _operator("mul", _ARITHMETIC.multiply)
    __rmul__ = _operator("mul", _ARITHMETIC.multiply, reflected=True)
    __truediv__ = _operator("truediv", _ARITHMETIC.divide)
    __rtruediv__ = _operator("truediv", _ARITHMETIC.divide, reflected=True)
    __floordiv__ = _operator("floordiv", _ARITHMETIC.divide_int)
    __rfloordiv__ = _operator("floordiv", _ARITHMETIC.divide_int, reflected=True)
    __mod__ = _operator("mod", _ARITHMETIC.remainder)
    __rmod__ = _operator("mod", _ARITHMETIC.remainder, reflected=True)
    __pow__ = _operator("pow", _ARITHMETIC.power)  # type: ignore[assignment]
    __rpow__ = _operator("pow", _ARITHMETIC.power, reflected=True)  # type: ignore[assignment]

    def __neg__(self) -> Self:
        return type(self)(-self._exact)

    def __pos__(self) -> Self:
        return self

    def __abs__(self) -> Self:
        return type(self)(abs(self._exact))

    def to_real_world_currency(self, session: Any) -> Currency:
        """Money for these points at the session's ``real_world_currency_per_point``.

        As oTree: the float product, rounded half up to the money's places; an amount is
        returned unchanged when USE_POINTS is False.
        """
        if not FORMAT.use_points:
            return self
        from server.session_config_values import stored_number

        rate = float(stored_number(session.config, "real_world_currency_per_point"))
        return RealWorldCurrency(float(self) * rate)


class RealWorldCurrency(Currency):
    """Money, whatever USE_POINTS says (REAL_WORLD_CURRENCY_DECIMAL_PLACES, printed as money)."""

    __slots__ = ()

    @classmethod
    def decimal_places(cls) -> int:
        return FORMAT.real_world_decimal_places

    def __str__(self) -> str:
        return _format_money(self._exact, FORMAT.real_world_decimal_places)

    def format_places(self, places: int) -> str:
        return _format_money(self._exact, places)

    def to_real_world_currency(self, session: Any) -> Currency:
        return self


cu = Currency


def currency_range(first: Any, last: Any, increment: Any) -> list[Currency]:
    """Amounts from ``first`` up to and including ``last``, ``increment`` apart (oTree's
    ``currency_range(0, 0.10, 0.02)`` is $0.00, $0.02, ..., $0.10).

    Raises ValueError when ``last < first``, or the increment is not positive once rounded to
    the currency's places (POINTS_DECIMAL_PLACES or REAL_WORLD_CURRENCY_DECIMAL_PLACES).
    """
    start, stop, step = Currency(first), Currency(last), Currency(increment)
    if stop < start:
        raise ValueError(f"currency_range: last ({stop}) is before first ({start})")
    if step <= 0:
        setting = (
            "POINTS_DECIMAL_PLACES" if FORMAT.use_points else "REAL_WORLD_CURRENCY_DECIMAL_PLACES"
        )
        raise ValueError(
            f"currency_range: the increment {increment!r} is not positive once rounded to "
            f"the currency's places ({setting})"
        )
    amounts: list[Currency] = []
    current = start
    while current <= stop:
        amounts.append(current)
        current = current + step
    return amounts


c = Currency  # oTree 4's name for cu, which oTree 5 and 6 still accept
