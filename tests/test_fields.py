"""Field validation and currency formatting."""

from __future__ import annotations

import pytest

from server.currency import Currency, configure_currency
from server.fields import FieldValueError, models, widgets


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        (models.IntegerField(), "42", 42),
        # min=None: no minimum (without it a number field's min is 0, as in oTree 5.10+).
        (models.IntegerField(min=None), "-3", -3),
        (models.FloatField(min=None), "-0.5", -0.5),
        (models.IntegerField(min=-3), "-3", -3),
        (models.CurrencyField(), "0", Currency(0)),
        (models.CurrencyField(), "12", Currency(12)),
        (models.StringField(), "  hi ", "hi"),
        (models.BooleanField(), "True", True),
        (models.BooleanField(), "False", False),
        (models.IntegerField(choices=[[1, "a"], [2, "b"]]), "2", 2),
        # oTree 6 stores "" for an empty blank text box (None for blank numbers).
        (models.StringField(blank=True), "", ""),
        (models.IntegerField(blank=True), "", None),
    ],
)
def test_valid_values(field, raw, expected):
    value = field.clean(raw, field.choices, field.min, field.max)
    assert value == expected
    assert type(value) is type(expected) or isinstance(value, type(expected))


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        (models.IntegerField(), "4.5", "Not a valid integer value"),
        # oTree refuses these too (its IntegerField reads the text with int()).
        (models.IntegerField(), "4.0", "Not a valid integer value"),
        (models.IntegerField(), "1e3", "Not a valid integer value"),
        (models.IntegerField(), "abc", "Not a valid integer value"),
        (models.FloatField(), "nan", "number"),
        (models.FloatField(), "inf", "number"),
        (models.IntegerField(min=1), "0", "Number must be at least 1."),
        (models.IntegerField(min=None, max=9), "10", "Number must be at most 9."),
        # oTree 6.0.15's words for a field declared without min= (its min is 0).
        (models.IntegerField(), "-3", "Number must be at least 0."),
        (models.FloatField(), "-0.5", "Number must be at least 0."),
        (models.CurrencyField(), "-1", "Number must be at least 0."),
        (models.IntegerField(max=9), "10", "Number must be between 0 and 9."),
        (models.FloatField(min=0.5, max=1), "2", "Number must be between 0.5 and 1."),
        (models.StringField(), "", "required"),
        (models.StringField(choices=["a", "b"]), "c", "Not a valid choice"),
        (models.BooleanField(), "maybe", "Not a valid choice"),
        (models.StringField(max_length=3), "abcd", "longer than 3 characters"),
    ],
)
def test_invalid_values(field, raw, message):
    with pytest.raises(FieldValueError, match=message):
        field.clean(raw, field.choices, field.min, field.max)


def test_checkbox_unticked_is_false():
    field = models.BooleanField(widget=widgets.CheckboxInput)
    assert field.clean(None, field.choices, None, None) is False
    assert field.clean("on", field.choices, None, None) is True


def test_currency_points_and_money():
    configure_currency(True, "USD")
    assert str(Currency(10)) == "10 points"
    assert str(Currency(1)) == "1 point"
    assert isinstance(Currency(3) + 2, Currency)
    configure_currency(False, "EUR")
    try:
        assert str(Currency(2.5)) == "€2.50"
        assert str(Currency(1) / 3) == "€0.33"
    finally:
        configure_currency(True, "USD")
