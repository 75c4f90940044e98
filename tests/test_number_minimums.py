"""oTree 5.10+'s implicit minimum: an IntegerField, FloatField or CurrencyField without
``min=`` accepts nothing below 0; ``min=None`` (or a negative ``min``) lets negatives in.

Expected values measured on oTree 6.0.15 (``otree devserver``, the same app as
tests/projects/numbers/apps/number_minimums, a form POSTed by hand and ``otree test``):

- the input carries ``min="0"`` (and the phone keyboard without a minus sign); a field with
  ``min=None``, a ``<field>_min`` hook returning None, or choices carries no minimum;
- the hook's answer replaces the field's ``min=``/``max=`` even when it is None
  (``min=2`` with a hook returning None accepts -5; ``max=5`` with one returning None, 99);
- -5 posted to a field without ``min=`` is refused with "Number must be at least 0."
  ("Number must be between 0 and 10." with ``max=10``); a blank field left empty is fine;
- values assigned in code (player, group, subsession) are stored as they are;
- a bot submitting -5 to such a field fails ("Bot submission failed form validation"), and
  ``SubmissionMustFail`` with it passes.
"""

from __future__ import annotations

import httpx
import pytest

from server.bots.runner import run_bots
from server.config import load_settings
from tests import databases
from tests.conftest import participant_links
from tests.live_server import live_server
from tests.number_pages import (
    PROJECT,
    browser_submits,
    field_views,
    numbers_client,
    start,
    stored_player,
    submit,
)

CONFIG = "number_minimums"
NUMBER_FIELDS = [
    "no_min",
    "min_none",
    "min_minus3",
    "min_2",
    "hook_none",
    "hook_minus10",
    "int_blank",
    "currency_plain",
    "float_plain",
    "min_2_hook_none",
    "max_10",
    "float_blank",
    "max_5_hook_none",
]

# (min, max, inputmode) of each input, as oTree 6.0.15 renders them (None: no attribute; oTree
# writes inputmode="" where Grove leaves the attribute out, which a browser reads the same).
RENDERED = {
    "no_min": ("0", None, "numeric"),
    "min_none": (None, None, None),
    "min_minus3": ("-3", None, None),
    "min_2": ("2", None, "numeric"),
    "hook_none": (None, None, None),
    "hook_minus10": ("-10", None, None),
    "int_blank": ("0", None, "numeric"),
    "currency_plain": ("0", None, "numeric"),
    "float_plain": ("0", None, "decimal"),
    "min_2_hook_none": (None, None, None),
    "max_10": ("0", "10", "numeric"),
    "float_blank": ("0", None, "decimal"),
    "max_5_hook_none": ("0", None, "numeric"),
}

AT_LEAST_0 = "Number must be at least 0."
NOT_INT = "Not a valid integer value"
REQUIRED = "This field is required."
# The error beside each field when every field gets the same text (and the select its -1),
# as oTree 6.0.15 showed them.
ERRORS = {
    "-5": {
        "no_min": AT_LEAST_0,
        "min_minus3": "Number must be at least -3.",
        "min_2": "Number must be at least 2.",
        "int_blank": AT_LEAST_0,
        "currency_plain": AT_LEAST_0,
        "float_plain": AT_LEAST_0,
        "max_10": "Number must be between 0 and 10.",
        "float_blank": AT_LEAST_0,
        "max_5_hook_none": AT_LEAST_0,
    },
    "0": {"min_2": "Number must be at least 2."},
    "-0.5": {
        **{name: NOT_INT for name in NUMBER_FIELDS},
        "currency_plain": AT_LEAST_0,  # -0.5 points round half up to -1
        "float_plain": AT_LEAST_0,
        "float_blank": AT_LEAST_0,
    },
    "": {name: REQUIRED for name in NUMBER_FIELDS if name not in ("int_blank", "float_blank")},
}


def test_inputs_carry_the_minimum_otree_renders(tmp_path):
    """min="0" unless min= says otherwise; a browser then refuses -5 typed into a number input."""
    with numbers_client(tmp_path) as (client, _app):
        (url,) = start(client, CONFIG)
        views = field_views(client.get(url).text)
        rendered = {
            name: (
                views[name].attributes.get("min"),
                views[name].attributes.get("max"),
                views[name].attributes.get("inputmode"),
            )
            for name in NUMBER_FIELDS
        }
        assert rendered == RENDERED
        assert "int_choices" not in views  # a select: no minimum
        assert not browser_submits(views["no_min"].attributes, "-5")
        assert browser_submits(views["min_none"].attributes, "-5")


@pytest.mark.parametrize("typed", list(ERRORS))
def test_a_hand_made_post_gets_the_errors_otree_shows(tmp_path, typed):
    """What a script (or a browser without the min check) posts is checked on the server."""
    with numbers_client(tmp_path) as (client, _app):
        (url,) = start(client, CONFIG)
        response = submit(client, url, {**dict.fromkeys(NUMBER_FIELDS, typed), "int_choices": "-1"})
        assert response.status_code == 200, response.headers
        views = field_views(response.text)
        errors = {name: views[name].error for name in NUMBER_FIELDS if views[name].error}
        assert errors == ERRORS[typed]


def test_negatives_where_allowed_are_stored_and_code_assignments_are_not_checked(tmp_path):
    """min=None, a negative min and hooks returning None let -5 in; app code stores -5 in
    fields without min= on the player, group and subsession (oTree checks only forms)."""
    typed = {
        "no_min": "0",
        "min_none": "-5",
        "min_minus3": "-3",
        "min_2": "2",
        "hook_none": "-5",
        "hook_minus10": "-10",
        "int_blank": "",
        "int_choices": "-1",
        "currency_plain": "0",
        "float_plain": "0",
        "min_2_hook_none": "-5",
        "max_10": "10",
        "float_blank": "",
        "max_5_hook_none": "99",
    }
    with numbers_client(tmp_path) as (client, app):
        (url,) = start(client, CONFIG)
        response = submit(client, url, typed)
        assert response.status_code == 303, response.text
        stored = stored_player(app, CONFIG)
        assert {name: stored[name] for name in typed} == {
            "no_min": 0,
            "min_none": -5,
            "min_minus3": -3,
            "min_2": 2,
            "hook_none": -5,
            "hook_minus10": -10,
            "int_blank": None,
            "int_choices": -1,
            "currency_plain": 0,
            "float_plain": 0.0,
            "min_2_hook_none": -5,
            "max_10": 10,
            "float_blank": None,
            "max_5_hook_none": 99,
        }
        done = client.get(response.headers["location"]).text
        assert '<p id="player">-5</p>' in done
        assert '<p id="group">-5 points</p>' in done
        assert '<p id="subsession">-5</p>' in done


def test_bots_are_refused_below_the_implicit_minimum(tmp_path):
    """The bots of number_minimums: SubmissionMustFail with -5, -0.5 and -1 point passes;
    a bot that submits -5 to a field without min= fails the run, naming the field."""
    settings = load_settings(PROJECT, {})
    refused, negative = run_bots(settings, CONFIG, database_url=databases.database_url(tmp_path))
    assert refused.ok, refused.error
    assert not negative.ok
    assert "no_min" in negative.error
    assert AT_LEAST_0 in negative.error
    assert negative.failed_page == "Form"


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_keeps_a_negative_answer_from_being_sent(browser, tmp_path):
    """In a real browser, -5 typed into a field without min= is refused by the input's
    min="0" before anything is sent (oTree's input does the same); with min=None it is sent."""
    with (
        live_server(
            databases.database_url(tmp_path, "browser"),
            workers=1,
            extra_env={"GROVE_PROJECT_ROOT": str(PROJECT)},
        ) as base,
        httpx.Client(base_url=base) as client,
    ):
        created = client.post(f"/demo/{CONFIG}", follow_redirects=False)
        assert created.status_code == 303, created.text
        (link,) = participant_links(client.get(created.headers["location"]).text)
        page = browser.new_page()
        page.goto(f"{base}{link}")
        page.wait_for_url(f"**/{CONFIG}/Form/1")
        for name, value in {
            "no_min": "-5",
            "min_none": "-5",
            "min_minus3": "-3",
            "min_2": "2",
            "hook_none": "-5",
            "hook_minus10": "-10",
            "currency_plain": "0",
            "float_plain": "0",
            "min_2_hook_none": "-5",
            "max_10": "10",
            "max_5_hook_none": "99",
        }.items():
            page.fill(f"#id_{name}", value)
        page.select_option("#id_int_choices", "-1")
        assert page.eval_on_selector("#id_no_min", "e => e.validity.rangeUnderflow")
        assert not page.eval_on_selector("#id_min_none", "e => e.validity.rangeUnderflow")
        page.click("button.grove-next")
        page.wait_for_timeout(500)
        assert page.url.endswith(f"/{CONFIG}/Form/1")  # not sent: the browser refused it
        page.fill("#id_no_min", "0")
        page.click("button.grove-next")
        page.wait_for_url(f"**/{CONFIG}/Done/2")
