"""Bots on pages whose buttons matter, with oTree 6.0.15's behaviour as the expected value
(measured with ``otree test`` on the same app in oTree's layout):

- a choice made by clicking one of several submit buttons that carry the field's name and value
  (oTree's sample prisoner's dilemma: ``<button name="cooperate" value="True">``) is filled by
  clicking the button whose value the bot gives, as a browser sends the clicked button;
- a bot that submits a page without any submit button fails (oTree: MissingHtmlButtonError), as
  a participant could not leave that page; ``check_html=False``, or ``BOTS_CHECK_HTML = False``
  in ``settings.py`` for the submissions that do not say, turns the check off.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.bots.html_form import FormFillError, page_form
from server.bots.runner import run_bots
from server.config import load_settings
from tests import databases

BOTFAIL = Path(__file__).resolve().parent / "projects" / "botfail"


def _run(config: str, tmp_path: Path, root: Path = BOTFAIL):
    settings = load_settings(root, {})
    [result] = run_bots(settings, config, database_url=databases.database_url(tmp_path, "bots"))
    return result


def test_a_choice_made_with_named_submit_buttons_is_the_clicked_button(tmp_path):
    result = _run("button_choice", tmp_path)
    assert result.ok, result.error


def test_a_button_value_the_page_does_not_offer_fails_the_bot(tmp_path):
    result = _run("button_value_not_offered", tmp_path)
    assert not result.ok
    assert "share: the page offers no submit button with the value 'Maybe'" in result.error
    assert "['True', 'False']" in result.error


def test_a_bot_submitting_a_page_without_a_submit_button_fails(tmp_path):
    result = _run("submits_page_without_button", tmp_path)
    assert not result.ok
    assert "page End: the page has no submit button" in result.error


def test_check_html_false_submits_a_page_without_a_submit_button(tmp_path):
    result = _run("submits_page_without_button_unchecked", tmp_path)
    assert result.ok, result.error


def test_bots_check_html_false_in_settings_submits_a_page_without_a_submit_button(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root, ignore=shutil.ignore_patterns("__pycache__"))
    with (root / "settings.py").open("a") as settings:
        settings.write("BOTS_CHECK_HTML = False\n")
    result = _run("submits_page_without_button", tmp_path, root)
    assert result.ok, result.error


def test_a_disabled_submit_button_is_a_submit_button_for_the_bot(tmp_path):
    # A Next button the page's JavaScript enables (after a timer, or once a slider moved):
    # oTree 6.0.15's bot finds it (it looks for the tag, not its state), and `otree test`
    # passes on the same page in oTree's layout.
    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "apps" / "pick" / "End.html").write_text(
        "{{ block content }}<p>The end.</p>"
        '<button class="otree-btn-next btn btn-primary" disabled>Next</button>{{ endblock }}'
    )
    result = _run("submits_page_without_button", tmp_path, root)
    assert result.ok, result.error


def test_a_choice_made_with_disabled_submit_buttons_is_the_clicked_button(tmp_path):
    # Buttons the page's JavaScript enables (once the participant has read for a while):
    # oTree 6.0.15's bot posts the choice, and `otree test` passes on the same page.
    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root, ignore=shutil.ignore_patterns("__pycache__"))
    choose = root / "apps" / "pick" / "Choose.html"
    choose.write_text(choose.read_text().replace('">', '" disabled>'))
    assert choose.read_text().count(" disabled>") == 3
    result = _run("button_choice", tmp_path, root)
    assert result.ok, result.error


_BUTTONS = """<form id="form" method="post"><input type="hidden" name="csrf" value="k">
<button name="share" value="True">Share</button><input type="submit" name="share" value="False">
<button type="button" name="share" value="Maybe">x</button>
<button type="reset" name="share" value="Reset">x</button></form>"""


@pytest.mark.parametrize(("clicked", "sent"), [("True", "True"), ("False", "False")])
def test_only_the_clicked_submit_button_is_sent(clicked, sent):
    pairs = page_form(_BUTTONS).submission({"share": clicked})
    assert pairs == [("csrf", "k"), ("share", sent)]


@pytest.mark.parametrize("value", ["Maybe", "Reset", "true"])
def test_a_value_of_no_submit_button_cannot_be_clicked(value):
    with pytest.raises(FormFillError, match="no submit button with the value"):
        page_form(_BUTTONS).submission({"share": value})


def test_with_no_value_given_no_button_is_sent():
    assert page_form(_BUTTONS).submission({}) == [("csrf", "k")]


_OUTSIDE = """<form id="form" method="post"><input type="hidden" name="csrf" value="k"></form>
<input form="form" name="answer" value="3"><input form="other" name="elsewhere" value="x">
<button form="form" name="share" value="True">Share</button>"""


def test_controls_given_to_the_form_by_their_form_attribute_are_its_own():
    # A browser submits a control outside the form whose form attribute names it (HTML's
    # form-associated elements), and clicks a button so placed; one naming another form is
    # not sent.
    form = page_form(_OUTSIDE)
    assert form.has_submit_button()
    assert form.submission({"share": "True"}) == [
        ("csrf", "k"),
        ("answer", "3"),
        ("share", "True"),
    ]
    assert form.submission({"answer": 4}) == [("csrf", "k"), ("answer", "4")]


def test_a_next_button_outside_the_form_is_a_submit_button_for_the_bot(tmp_path):
    # oTree 6.0.15's bot looks for a submit button anywhere on the page (a page may submit
    # its form from a button of its own layout, with form="form" or its JavaScript), and
    # `otree test` passes on such a page.
    root = tmp_path / "project"
    shutil.copytree(BOTFAIL, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "apps" / "pick" / "End.html").write_text(
        "{{ block content }}<p>The end.</p>{{ endblock }}"
        '{{ block global_scripts }}<button onclick="document.forms.form.submit()">Next'
        "</button>{{ endblock }}"
    )
    result = _run("submits_page_without_button", tmp_path, root)
    assert result.ok, result.error


def test_a_disabled_field_the_bot_fills_is_sent_one_it_leaves_is_not():
    # A field the page's JavaScript enables (after a timer, a slider moved): oTree 6.0.15's
    # bot posts the value it was given (`otree test` passes on such a page); what the bot
    # leaves alone is not sent, as a browser sends no disabled control.
    html = """<form id="form" method="post"><input type="hidden" name="csrf" value="k">
    <input type="number" name="answer" disabled><input name="note" value="x" disabled>
    <button>Next</button></form>"""
    assert page_form(html).submission({"answer": 4}) == [("csrf", "k"), ("answer", "4")]
    assert page_form(html).submission({}) == [("csrf", "k")]
