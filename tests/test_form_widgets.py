"""Every field type x widget x kind of choices, filled from the HTML the page renders.

The expected value is what the participant clicked, as oTree stores it: clicking "No" on a
BooleanField stores False, clicking "1.0" on a FloatField stores 1.0, a Currency choice
stores that amount. oTree renders each choice's ``value`` attribute as Python's ``str`` of
the choice (``True``/``False`` for booleans), and Grove must submit exactly what was shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import page_form
from server.config import load_settings
from server.currency import Currency
from tests import databases
from tests.conftest import create_demo_session
from tests.form_filling import Click, fill_and_submit

PROJECT = Path(__file__).parent / "projects" / "widgets"

YES_NO = [("Yes", True), ("No", False)]
# field -> the (label the participant reads, value stored) of each choice, in page order.
CHOICES: dict[str, list[tuple[str, Any]]] = {
    "bool_default": YES_NO,
    "bool_horizontal": YES_NO,
    "bool_select": YES_NO,
    "bool_pairs": [("Cooperate", True), ("Defect", False)],
    "bool_pairs_reversed": [("Defect", False), ("Cooperate", True)],
    "int_plain": [("1", 1), ("2", 2), ("3", 3)],
    "int_radio": [("1", 1), ("2", 2), ("3", 3)],
    "int_horizontal": [("0", 0), ("5", 5), ("10", 10)],
    "int_pairs": [("Zero", 0), ("Ten", 10)],
    "int_pairs_select": [("Minus one", -1), ("One", 1)],
    "float_plain": [("0.5", 0.5), ("1.0", 1.0), ("2.25", 2.25)],
    "float_pairs": [("a tenth", 0.1), ("one", 1.0)],
    "currency_plain": [
        ("0 points", Currency(0)),
        ("5 points", Currency(5)),
        ("10 points", Currency(10)),
    ],
    "currency_pairs": [("one point", Currency(1)), ("two points", Currency(2))],
    "str_radio": [("Red", "Red"), ("Blue", "Blue"), ("Green", "Green")],
    "str_pairs": [("Red", "r"), ("Blue", "b")],
    "str_horizontal": [("Yes", "yes"), ("No", "no")],
    "long_radio": [("short", "short"), ("long", "long")],
}
TYPED = {
    "int_typed": ("-42", -42),
    "float_typed": ("2.5", 2.5),
    "currency_typed": ("7", Currency(7)),
    "str_typed": ("héllo <b>", "héllo <b>"),
    "long_typed": ("line one\r\nline two", "line one\r\nline two"),
}


@pytest.fixture
def widgets_client(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    settings = load_settings(PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, app
    app.state.grove.db.dispose()


def _stored(app: Any, round_number: int) -> dict[str, Any]:
    grove = app.state.grove
    player_cls = grove.project.apps["widgets"].player_cls
    with grove.db.transaction() as db:
        player = db.scalars(
            sa.select(player_cls).where(player_cls.round_number == round_number)
        ).one()
        return {
            name: getattr(player, name)
            for name in [*CHOICES, *TYPED, "bool_checkbox", "int_dynamic"]
        }


def _same(stored: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(stored, bool):
        return stored is expected
    if isinstance(expected, Currency):
        return isinstance(stored, Currency) and float(stored) == float(expected)
    return type(stored) is type(expected) and stored == expected


def test_every_choice_of_every_widget_is_stored_as_clicked(widgets_client):
    client, app = widgets_client
    _code, links = create_demo_session(client, "widgets")
    url = client.get(links[0], follow_redirects=False).headers["location"]
    clicked_labels: dict[str, set[str]] = {name: set() for name in CHOICES}
    for round_number in (1, 2, 3):
        actions: dict[str, Any] = {}
        expected: dict[str, Any] = {}
        for name, choices in CHOICES.items():
            label, value = choices[(round_number - 1) % len(choices)]
            actions[name] = Click(label)
            expected[name] = value
            clicked_labels[name].add(label)
        dynamic = [("this round", round_number * 100), ("seven", 7)]
        label, value = dynamic[round_number % 2]
        actions["int_dynamic"], expected["int_dynamic"] = Click(label), value
        for name, (typed, value) in TYPED.items():
            actions[name], expected[name] = typed, value
        actions["bool_checkbox"] = expected["bool_checkbox"] = round_number != 2
        response = fill_and_submit(client, url, actions)
        assert response.status_code == 303, response.text
        stored = _stored(app, round_number)
        wrong = {n: (stored[n], expected[n]) for n in expected if not _same(stored[n], expected[n])}
        assert not wrong, f"round {round_number}: stored != clicked: {wrong}"
        url = response.headers["location"]
    # Every option of every field was clicked at least once across the rounds.
    assert all(clicked_labels[n] == {label for label, _ in CHOICES[n]} for n in CHOICES)


def test_every_rendered_choice_submits_a_distinct_non_empty_value(widgets_client):
    client, _app = widgets_client
    _code, links = create_demo_session(client, "widgets")
    html = client.get(links[0]).text
    form = page_form(html)
    for name, choices in CHOICES.items():
        options = form.choices(name)
        assert [o.label for o in options] == [label for label, _ in choices], name
        values = [o.value for o in options]
        assert all(v not in ("", "on") for v in values), (name, values)
        assert len(set(values)) == len(values), (name, values)


def test_boolean_radios_are_required_and_a_box_is_not(widgets_client):
    client, _app = widgets_client
    _code, links = create_demo_session(client, "widgets")
    url = client.get(links[0], follow_redirects=False).headers["location"]
    html = client.get(url).text
    form = page_form(html)
    assert all(c.required for c in form.controls_named("bool_default"))
    assert not any(c.required for c in form.controls_named("bool_checkbox"))
    # Nothing clicked: the browser sends no bool_default at all; the page says it is required.
    response = fill_and_submit(client, url, {"int_typed": "1"})
    assert response.status_code == 200
    refused = page_form(response.text)
    assert "This field is required." in response.text
    # The typed value is kept for the participant to correct the rest.
    assert refused.controls_named("int_typed")[0].value == "1"


@pytest.mark.parametrize(
    ("name", "posted"),
    [("bool_default", "on"), ("bool_default", "maybe"), ("int_plain", "4"), ("str_pairs", "Red")],
)
def test_a_value_the_page_does_not_offer_is_refused(widgets_client, name, posted):
    client, _app = widgets_client
    _code, links = create_demo_session(client, "widgets")
    url = client.get(links[0], follow_redirects=False).headers["location"]
    form = page_form(client.get(url).text)
    data = dict(form.submission())
    data[name] = posted
    response = client.post(url, data=data, follow_redirects=False)
    assert response.status_code == 200
    assert "Not a valid choice" in response.text  # oTree 6.0.15 (WTForms)
