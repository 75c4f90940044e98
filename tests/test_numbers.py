"""Numbers typed into forms and assigned in code, as oTree reads them (and where it fails).

Every expected value was measured on oTree 6.0.15, with a project of the same fields driven
over HTTP. Each test reads the ``<input>`` the page renders, types what a participant would,
and posts what the browser sends. Where Grove deliberately differs, the test says so: oTree
answers 500 for an IntegerField value beyond 64 bits on SQLite (its INTEGER column is 32 bits
on PostgreSQL) and stores "inf"/"nan" typed into a FloatField; Grove refuses both beside the
field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from server.currency import FORMAT, Currency
from server.fields import INTEGER_MAX, INTEGER_MIN
from tests import databases
from tests.number_pages import (
    browser_submits,
    field_views,
    numbers_client,
    start,
    stored_player,
    submit,
)

MONEY_EUR_DE = dict(use_points=False, real_world_currency_code="EUR", language_code="de")


@pytest.fixture(autouse=True)
def _restore_currency_format():
    saved = dict(vars(FORMAT))
    yield
    vars(FORMAT).update(saved)


# --- 3. Currency typed into a form and assigned in code rounds half up ------------------


def test_public_goods_share_of_2_5_points_is_3_points(tmp_path):
    """Two players contribute 2 and 3 points; the share 5 * 1 / 2 = 2.5 is 3 points."""
    with numbers_client(tmp_path) as (client, app):
        urls = start(client, "number_goods")
        results = []
        for url, typed in zip(urls, ("2", "3"), strict=True):
            response = submit(client, url, {"contribution": typed})
            assert response.status_code == 303, response.text
            results.append(response.headers["location"])
        pages = [client.get(url, follow_redirects=True).text for url in results]
        assert all('<p id="share">3 points</p>' in page for page in pages), pages[0]
        assert '<p id="payoff">11 points</p>' in pages[0]  # 10 - 2 + 3
        assert '<p id="payoff">10 points</p>' in pages[1]  # 10 - 3 + 3
        assert '<p id="money">$0.28</p>' in pages[0]  # 11 * 0.025 = 0.275
        grove = app.state.grove
        with grove.db.engine.connect() as connection:
            share = connection.execute(
                sa.text("SELECT individual_share FROM number_goods_group")
            ).scalar_one()
            payoffs = connection.execute(
                sa.text("SELECT payoff FROM grove_participant ORDER BY id_in_session")
            ).scalars()
            assert (share, list(payoffs)) == (3, [11, 10])


def test_typed_amount_is_rounded_before_max_is_checked_points(tmp_path):
    """Points, 0 places, max=12: oTree rounds 12.5 to 13 and refuses it; 12.4 is 12."""
    with numbers_client(tmp_path) as (client, app):
        (url,) = start(client)
        view = field_views(client.get(url).text)["c_max12"]
        # oTree renders a number input (the browser's default step 1 refuses 12.5 already).
        assert view.attributes["type"] == "number"
        assert (view.attributes["min"], view.attributes["max"]) == ("0", "12")
        assert "step" not in view.attributes
        assert view.attributes["inputmode"] == "numeric"
        assert view.unit == "points"
        assert not browser_submits(view.attributes, "12.5")
        # A script posts it anyway: the server refuses it beside the field.
        refused = submit(client, url, {"c_max12": "12.5"})
        assert refused.status_code == 200
        error = field_views(refused.text)["c_max12"].error
        assert error == "Number must be between 0 and 12."  # oTree 6.0.15's words (WTForms)
        assert ">Please fix the errors.</div>" in refused.text  # oTree 6.0.15's words
        assert browser_submits(view.attributes, "12")
        accepted = submit(client, url, {"c_max12": "12.4"})
        assert accepted.status_code == 303, accepted.text
        assert stored_player(app)["c_max12"] == Currency(12)


def test_typed_amount_is_rounded_before_max_is_checked_money(tmp_path):
    """Money, 2 places, max=12: oTree reads "12.005" as 12.01 (refused), "12.004" as 12.00."""
    with numbers_client(tmp_path, use_points=False) as (client, app):
        (url,) = start(client)
        view = field_views(client.get(url).text)["c_max12"]
        assert view.attributes["type"] == "text"
        assert view.unit == "$"
        assert browser_submits(view.attributes, "12.005")
        refused = submit(client, url, {"c_max12": "12.005", "c_plain": "2.675"})
        assert field_views(refused.text)["c_max12"].error == "Number must be between 0 and 12."
        # The accepted field keeps its value, shown with the currency's places, as oTree.
        assert field_views(refused.text)["c_plain"].attributes["value"] == "2.68"
        accepted = submit(client, url, {"c_max12": "12.004", "c_plain": "2.675"})
        assert accepted.status_code == 303, accepted.text
        stored = stored_player(app)
        assert stored["c_max12"].decimal == Decimal("12.00")
        assert stored["c_plain"].decimal == Decimal("2.68")  # typed digits, not the float


def test_an_amount_refused_by_max_is_shown_as_read(tmp_path):
    """oTree shows a refused amount as it read it, with the currency's places: money, "11"
    typed for a max of 10 comes back as "11.00" (measured on oTree 6.0.15), "12.005" as
    "12.01"."""
    with numbers_client(tmp_path, use_points=False) as (client, _):
        (url,) = start(client)
        for typed, shown in (("13", "13.00"), ("12.005", "12.01")):
            refused = submit(client, url, {"c_max12": typed})
            view = field_views(refused.text)["c_max12"]
            assert view.error == "Number must be between 0 and 12."
            assert view.attributes["value"] == shown


def test_assigning_to_a_currency_field_or_payoff_rounds(tmp_path):
    with numbers_client(tmp_path) as (client, app):
        start(client, "number_goods")
        grove = app.state.grove
        player_cls = grove.project.apps["number_goods"].player_cls
        with grove.db.transaction() as db:
            player = db.scalars(sa.select(player_cls).order_by(player_cls.id)).first()
            player.contribution = 2.5
            assert player.contribution == Currency(3)
            assert str(player.contribution) == "3 points"
            player.payoff = 0.5
            assert str(player.payoff) == "1 point"
            assert str(player.participant.payoff) == "1 point"
        assert stored_player(app, "number_goods")["contribution"] == Currency(3)


# --- 4. Decimal comma and formatting per language ----------------------------------------


def _inputs(html: str) -> dict[str, tuple[str, str | None, str | None]]:
    views = field_views(html)
    return {
        name: (view.attributes["type"], view.attributes.get("inputmode"), view.unit)
        for name, view in views.items()
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # oTree, English, points: whole amounts in number inputs.
        (
            {},
            {
                "i_plain": ("number", None, None),
                "i_min0": ("number", "numeric", None),
                "f_plain": ("text", None, None),
                "f_min0": ("text", "decimal", None),
                "c_plain": ("number", None, "points"),
                "c_max12": ("number", "numeric", "points"),
            },
        ),
        # German, euros: amounts with decimals are typed into text inputs.
        (
            MONEY_EUR_DE,
            {
                "i_plain": ("number", None, None),
                "i_min0": ("number", "numeric", None),
                "f_plain": ("text", None, None),
                "f_min0": ("text", "decimal", None),
                "c_plain": ("text", None, "€"),
                "c_max12": ("text", "decimal", "€"),
            },
        ),
        # German, points with 2 places.
        (
            dict(language_code="de", points_decimal_places=2),
            {
                "i_plain": ("number", None, None),
                "i_min0": ("number", "numeric", None),
                "f_plain": ("text", None, None),
                "f_min0": ("text", "decimal", None),
                "c_plain": ("text", None, "Punkte"),
                "c_max12": ("text", "decimal", "Punkte"),
            },
        ),
        # German, whole points.
        (
            dict(language_code="de"),
            {
                "i_plain": ("number", None, None),
                "i_min0": ("number", "numeric", None),
                "f_plain": ("text", None, None),
                "f_min0": ("text", "decimal", None),
                "c_plain": ("number", None, "Punkte"),
                "c_max12": ("number", "numeric", "Punkte"),
            },
        ),
        (dict(use_points=False), {"c_plain": ("text", None, "$")}),
    ],
)
def test_number_inputs_are_rendered_as_otree_renders_them(tmp_path, changes, expected):
    """Input type, phone keyboard (only when min >= 0) and the unit beside it."""
    with numbers_client(tmp_path, **changes) as (client, _app):
        (url,) = start(client)
        rendered = _inputs(client.get(url).text)
        assert {name: rendered[name] for name in expected} == expected


def test_german_participant_types_decimal_commas(tmp_path):
    """LANGUAGE_CODE "de", euros: "2,5" is 2.5 in a FloatField and 2,50 € in a CurrencyField."""
    with numbers_client(tmp_path, **MONEY_EUR_DE) as (client, app):
        (url,) = start(client)
        views = field_views(client.get(url).text)
        typed = {"f_plain": "2,5", "c_plain": "2,5", "c_max12": "12,004"}
        assert all(browser_submits(views[name].attributes, text) for name, text in typed.items())
        response = submit(client, url, typed)
        assert response.status_code == 303, response.text
        stored = stored_player(app)
        assert stored["f_plain"] == 2.5
        assert stored["c_plain"].decimal == Decimal("2.50")
        assert stored["c_max12"].decimal == Decimal("12.00")
        shown = client.get(response.headers["location"]).text
        assert '<p id="c_plain">2,50 €</p>' in shown
        assert '<p id="c_max12">12,00 €</p>' in shown


def test_a_number_written_in_the_template_prints_with_a_decimal_comma(tmp_path):
    """oTree prints ``{{ 2.5 }}`` as it prints a FloatField holding 2.5: "2,5" in German."""
    with numbers_client(tmp_path, **MONEY_EUR_DE) as (client, _app):
        (url,) = start(client)
        response = submit(client, url, {"f_plain": "2,5", "c_plain": "1", "c_max12": "1"})
        assert response.status_code == 303, response.text
        shown = client.get(response.headers["location"]).text
        assert '<p id="f_plain">2,5</p>' in shown
        assert '<p id="literal">2,5</p>' in shown


def test_refused_german_form_shows_numbers_with_decimal_commas(tmp_path):
    """oTree shows the values back as "2,5" and "2,50" (the amount with its places)."""
    with numbers_client(tmp_path, **MONEY_EUR_DE) as (client, _app):
        (url,) = start(client)
        refused = submit(client, url, {"f_plain": "2,5", "c_plain": "2,5", "c_max12": "12,5"})
        assert refused.status_code == 200
        views = field_views(refused.text)
        assert views["c_max12"].error == "Zahl muss zwischen 0 und 12 liegen."
        assert ">Bitte korrigieren Sie die Fehler.</div>" in refused.text  # oTree's German
        assert views["f_plain"].attributes["value"] == "2,5"
        assert views["c_plain"].attributes["value"] == "2,50"


def test_german_points_with_places_take_commas_and_print_in_german(tmp_path):
    with numbers_client(tmp_path, language_code="de", points_decimal_places=2) as (client, _app):
        (url,) = start(client)
        response = submit(client, url, {"c_plain": "2,5", "c_max12": "1"})
        assert response.status_code == 303, response.text
        shown = client.get(response.headers["location"]).text
        assert '<p id="c_plain">2,50 Punkte</p>' in shown
        assert '<p id="c_max12">1,00 Punkt</p>' in shown


def test_comma_is_a_decimal_point_in_english_too(tmp_path):
    """oTree reads a comma as the decimal point in every language: "1,000" is 1, not 1000."""
    with numbers_client(tmp_path) as (client, app):
        (url,) = start(client)
        response = submit(client, url, {"f_plain": "1,000", "f_min0": "2,5"})
        assert response.status_code == 303, response.text
        stored = stored_player(app)
        assert (stored["f_plain"], stored["f_min0"]) == (1.0, 2.5)
        (url,) = start(client)
        refused = submit(client, url, {"f_plain": "1,234.5"})
        assert field_views(refused.text)["f_plain"].error == "Not a valid float value"


# --- 5. Out-of-range numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "error", "stored"),
    [
        ("9223372036854775807", None, INTEGER_MAX),
        ("-9223372036854775808", None, INTEGER_MIN),
        ("3000000000", None, 3000000000),
        ("9223372036854775808", f"Ensure this value is less than or equal to {INTEGER_MAX}.", None),
        ("-9223372036854775809", f"Ensure this value is greater than or equal to {INTEGER_MIN}.",
         None),
        ("1e30", "Not a valid integer value", None),
    ],
)  # fmt: skip
def test_integer_field_holds_64_bit_integers(tmp_path, typed, error, stored):
    """oTree: 500 for 9223372036854775808 on SQLite; its PostgreSQL column holds 32 bits."""
    with numbers_client(tmp_path) as (client, app):
        (url,) = start(client)
        response = submit(client, url, {"i_plain": typed})
        if error is None:
            assert response.status_code == 303, response.text
            assert stored_player(app)["i_plain"] == stored
        else:
            assert response.status_code == 200
            assert field_views(response.text)["i_plain"].error == error


@pytest.mark.parametrize("field", ["f_plain", "c_plain"])
@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("inf", "Enter a number."),
        ("-Infinity", "Enter a number."),
        ("nan", "Enter a number."),
        ("1e999", "This number is too large."),
        ("-1e999", "This number is too large."),
    ],
)
def test_non_finite_numbers_are_form_errors(tmp_path, field, typed, error):
    """oTree stores inf (and NaN as NULL) in a FloatField; Grove refuses them beside it."""
    with numbers_client(tmp_path, use_points=False) as (client, _app):
        (url,) = start(client)
        response = submit(client, url, {field: typed})
        assert response.status_code == 200
        assert field_views(response.text)[field].error == error


def _first_player(db: Any, app: Any) -> Any:
    player_cls = app.state.grove.project.apps["number_fields"].player_cls
    return db.scalars(sa.select(player_cls).order_by(player_cls.id)).first()


@pytest.mark.parametrize(
    ("name", "value", "error", "match"),
    [
        ("i_plain", 2**63, ValueError, r"Player\.i_plain = 9223372036854775808 is out of range"),
        ("i_plain", -(2**63) - 1, ValueError, r"Player\.i_plain .* out of range"),
        ("i_plain", 2.5, ValueError, r"Player\.i_plain must be a whole number"),
        ("i_plain", "12", TypeError, r"Player\.i_plain must be an int, not str"),
        ("f_plain", float("nan"), ValueError, r"Player\.f_plain must be a finite number"),
        ("f_plain", float("inf"), ValueError, r"Player\.f_plain must be a finite number"),
        ("f_plain", "2.5", TypeError, r"Player\.f_plain must be a float"),
        ("c_plain", float("inf"), ValueError, r"Player\.c_plain: .*finite"),
        ("c_plain", "2", TypeError, r"Player\.c_plain must be a Currency"),
    ],
)
def test_app_code_assigning_a_bad_number_fails_at_the_assignment(
    tmp_path, name, value, error, match
):
    with numbers_client(tmp_path) as (client, app):
        start(client)
        with app.state.grove.db.transaction() as db:
            player = _first_player(db, app)
            with pytest.raises(error, match=match):
                setattr(player, name, value)
        assert stored_player(app)[name] is None


def test_app_code_keeps_whole_floats_and_big_integers(tmp_path):
    with numbers_client(tmp_path) as (client, app):
        start(client)
        with app.state.grove.db.transaction() as db:
            player = _first_player(db, app)
            player.i_plain = INTEGER_MAX
            player.i_min0 = 3.0
            player.f_plain = 7
        stored = stored_player(app)
        assert (stored["i_plain"], stored["i_min0"], stored["f_plain"]) == (INTEGER_MAX, 3, 7.0)
        assert type(stored["i_min0"]) is int


def test_a_bad_initial_value_fails_when_the_app_loads():
    from server.fields import models

    with pytest.raises(ValueError, match=r"IntegerField\(initial=\.\.\.\) = 9223372036854775808"):
        models.IntegerField(initial=2**63)
    with pytest.raises(ValueError, match="finite"):
        models.FloatField(initial=float("nan"))


@pytest.mark.sqlite
def test_integer_columns_stay_integer_on_sqlite(tmp_path):
    """SQLite's INTEGER is 64 bits; the fields keep it (no BIGINT), ids stay rowid aliases."""
    database_url = databases.database_url(tmp_path, "numbers", databases.SQLITE)
    with numbers_client(tmp_path, database_url=database_url) as (client, app):
        start(client)
        start(client)
        with app.state.grove.db.engine.connect() as connection:
            ddl = connection.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE name = 'number_fields_player'")
            ).scalar_one()
            ids = connection.execute(sa.text("SELECT id FROM number_fields_player")).scalars()
            assert sorted(ids) == [1, 2]
        assert "i_plain INTEGER" in ddl
        assert "BIGINT" not in ddl
        assert "id INTEGER NOT NULL" in ddl
        assert "PRIMARY KEY (id)" in ddl
