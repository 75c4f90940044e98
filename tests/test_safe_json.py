"""``safe_json`` from server.api, with oTree 6.0.15's output as the expected value (measured
with ``otree.api.safe_json`` on the same inputs)."""

from __future__ import annotations

import datetime
import json

import pytest

from server.api import Currency, RealWorldCurrency, cu, safe_json


@pytest.mark.parametrize(
    ("value", "otree_output"),
    [
        (
            {"a": cu(3), "b": [1, 2.5, None, True], "c": "é</script>"},
            '{"a": 3, "b": [1, 2.5, null, true], "c": "\\u00e9</script>"}',
        ),
        (cu(2.5), "3"),  # points have no decimal places: a whole number
        ([cu(1)], "[1]"),
        ((1, 2), "[1, 2]"),
        ({1: 2}, '{"1": 2}'),
        (float("nan"), "NaN"),
        ({"x": float("inf")}, '{"x": Infinity}'),
        (RealWorldCurrency(2.5), "2.5"),  # money keeps its decimals: a float
        ({"k": RealWorldCurrency(3)}, '{"k": 3.0}'),
        ({"nested": {"deep": [(cu(4), Currency(-2))]}}, '{"nested": {"deep": [[4, -2]]}}'),
    ],
)
def test_safe_json_writes_what_otree_writes(value, otree_output):
    assert safe_json(value) == otree_output


@pytest.mark.parametrize("value", [datetime.date(2020, 1, 1), {1, 2}, {(1, 2): 3}, b"x"])
def test_safe_json_refuses_what_json_refuses(value):
    with pytest.raises(TypeError):
        safe_json(value)


def test_safe_json_round_trips_through_json():
    data = {"points": [cu(1), cu(2)], "label": "x"}
    assert json.loads(safe_json(data)) == {"points": [1, 2], "label": "x"}
