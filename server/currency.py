"""Currency values (oTree's ``Currency``/``cu``), formatted in points or real-world money."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}


@dataclass
class CurrencyFormat:
    """How currency amounts print; set once by ``create_app`` from the settings."""

    use_points: bool = True
    currency_code: str = "USD"
    points_decimal_places: int = 0
    real_world_decimal_places: int = 2

    @property
    def places(self) -> int:
        return self.points_decimal_places if self.use_points else self.real_world_decimal_places


FORMAT = CurrencyFormat()


def configure_currency(
    use_points: bool, currency_code: str, points_places: int = 0, real_places: int = 2
) -> None:
    """Set how Currency values round and print (called from create_app)."""
    FORMAT.use_points = use_points
    FORMAT.currency_code = currency_code
    FORMAT.points_decimal_places = points_places
    FORMAT.real_world_decimal_places = real_places


class Currency(float):
    """A float that rounds to the currency's places and prints as points or money."""

    def __new__(cls, value: Any = 0) -> Currency:
        if isinstance(value, str):
            value = float(value.replace(",", "").strip())
        return super().__new__(cls, round(float(value), FORMAT.places))

    def __str__(self) -> str:
        places = FORMAT.places
        if FORMAT.use_points:
            amount = f"{float(self):,.{places}f}"
            return f"{amount} point" if float(self) == 1 else f"{amount} points"
        symbol = _SYMBOLS.get(FORMAT.currency_code)
        amount = f"{abs(float(self)):,.{places}f}"
        sign = "-" if float(self) < 0 else ""
        if symbol:
            return f"{sign}{symbol}{amount}"
        return f"{sign}{amount} {FORMAT.currency_code}"

    def __repr__(self) -> str:
        return f"Currency({float(self)!r})"

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else format(float(self), spec)

    def __hash__(self) -> int:
        return float.__hash__(self)

    def _wrap(self, value: Any) -> Any:
        return Currency(value) if isinstance(value, float | int) else value

    def __add__(self, other: Any) -> Any:
        return self._wrap(float(self) + float(other))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        return self._wrap(float(self) - float(other))

    def __rsub__(self, other: Any) -> Any:
        return self._wrap(float(other) - float(self))

    def __mul__(self, other: Any) -> Any:
        return self._wrap(float(self) * float(other))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Any:
        return self._wrap(float(self) / float(other))

    def __rtruediv__(self, other: Any) -> Any:
        return self._wrap(float(other) / float(self))

    def __floordiv__(self, other: Any) -> Any:
        return self._wrap(float(self) // float(other))

    def __neg__(self) -> Currency:
        return Currency(-float(self))

    def __abs__(self) -> Currency:
        return Currency(abs(float(self)))

    def to_real_world_currency(self, session: Any) -> Currency:
        """Convert points to money with the session's ``real_world_currency_per_point``."""
        if not FORMAT.use_points:
            return self
        rate = float(session.config.get("real_world_currency_per_point", 1))
        return RealWorldCurrency(float(self) * rate)


class RealWorldCurrency(Currency):
    """Money, whatever USE_POINTS says."""

    def __new__(cls, value: Any = 0) -> RealWorldCurrency:
        return float.__new__(cls, round(float(value), FORMAT.real_world_decimal_places))

    def __str__(self) -> str:
        places = FORMAT.real_world_decimal_places
        symbol = _SYMBOLS.get(FORMAT.currency_code)
        amount = f"{abs(float(self)):,.{places}f}"
        sign = "-" if float(self) < 0 else ""
        return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {FORMAT.currency_code}"

    def _wrap(self, value: Any) -> Any:
        return RealWorldCurrency(value) if isinstance(value, float | int) else value


cu = Currency
