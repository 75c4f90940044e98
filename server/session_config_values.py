"""Session config values of the right kind: a value takes the kind of its key's default.

oTree's admin form gives each editable config field the input of its default's type (a check
box for a bool, a number box for an int or a float, a text box for a str), and oTree turns
``participation_fee`` into money when a config is loaded. Grove applies that rule wherever a
config value comes from: ``SESSION_CONFIG_DEFAULTS`` and ``SESSION_CONFIGS`` (at start, a
ConfigurationError naming the config and key) and ``modified_session_config_fields`` (REST;
an InvalidArguments naming the field). So ``participation_fee="five dollars"`` is refused
where it is written, instead of failing every later read of the session.

The kinds:

* number (the default is an int, float, Decimal or Currency; ``participation_fee`` and
  ``real_world_currency_per_point`` always): a finite int, float, Decimal or Currency, or a
  string that reads as one (a form or Qualtrics sends text: ``"2.5"`` is 2.5, ``"3"`` is 3
  where the default is an int). ``True``/``False`` are not numbers.
* bool: True or False, or a form's text for one (``"true"``/``"false"``, ``"1"``/``"0"``,
  ``"on"``/``"off"``, ``"yes"``/``"no"``, any case).
* str: text.

A key whose default is anything else (None, a list, a dict), and a key the config does not
have, takes any value, as in oTree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from server.errors import ConfigurationError

# Keys that hold numbers in every config (oTree reads them as money and as a rate).
NUMERIC_KEYS = ("participation_fee", "real_world_currency_per_point")
BUILTIN_DEFAULTS: dict[str, Any] = {"participation_fee": 0.0, "real_world_currency_per_point": 1.0}

_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no", ""})
# Longest numeric text read (digits, sign, point, exponent): any real amount is far shorter.
_MAX_NUMBER_TEXT = 50


class ConfigValueError(ValueError):
    """A config value of the wrong kind; the message says which kind it must be."""


def kind_of(key: str, default: Any) -> str | None:
    """ "number", "bool" or "str": the kind a value of ``key`` must be; None for any value."""
    if key in NUMERIC_KEYS:
        return "number"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int | float | Decimal):  # Currency amounts are floats
        return "number"
    if isinstance(default, str):
        return "str"
    return None


def _number(value: Any, whole: bool) -> int | float | Decimal:
    if isinstance(value, bool):
        raise ConfigValueError("must be a number, not True/False")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite:
            raise ConfigValueError(f"must be a finite number, not {value}")
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) > _MAX_NUMBER_TEXT:
                raise InvalidOperation
            parsed = Decimal(text)
        except InvalidOperation:
            raise ConfigValueError(f"must be a number, not {_shown(value)}") from None
        if not parsed.is_finite():
            raise ConfigValueError(f"must be a finite number, not {_shown(value)}")
        if whole and parsed == parsed.to_integral_value():
            return int(parsed)
        return float(parsed)
    raise ConfigValueError(f"must be a number, not {_shown(value)}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ConfigValueError(f"must be true or false, not {_shown(value)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def checked_value(key: str, value: Any, default: Any) -> Any:
    """``value`` as a value of ``key`` whose default is ``default``: itself, or the number or
    bool a string reads as. Raises ConfigValueError saying what it must be."""
    kind = kind_of(key, default)
    if kind == "number":
        whole = isinstance(default, int) and not isinstance(default, bool)
        return _number(value, whole)
    if kind == "bool":
        return _bool(value)
    if kind == "str" and not isinstance(value, str):
        raise ConfigValueError(f"must be text, not {_shown(value)}")
    return value


def checked_config(config: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with every value checked against ``defaults`` (a key without a default:
    any value; NUMERIC_KEYS: numbers). Raises ConfigValueError whose message starts with the
    key."""
    checked = dict(config)
    for key, value in config.items():
        if key in defaults or key in NUMERIC_KEYS:
            try:
                checked[key] = checked_value(key, value, defaults.get(key))
            except ConfigValueError as exc:
                raise ConfigValueError(f"{key} {exc}") from None
    return checked


def stored_number(config: Mapping[str, Any], key: str) -> int | float | Decimal:
    """A number of a stored session's config (NUMERIC_KEYS), its built-in default when absent.

    A session created before values were checked may hold text that is no number there
    (``"five dollars"``): that raises ConfigurationError naming the key and the value, which a
    participant page shows as a 400 page and the REST API's session detail as a null amount,
    rather than a server error.
    """
    value = config.get(key, BUILTIN_DEFAULTS[key])
    try:
        return _number(value, whole=False)
    except ConfigValueError as exc:
        raise ConfigurationError(
            f"this session's config has {key} = {_shown(value)}, which is not a number "
            f"(it {exc}); create a new session with a valid {key}"
        ) from None
