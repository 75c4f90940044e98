"""Grove's own participant-facing words in LANGUAGE_CODE's language (English and German).

oTree translates what it writes itself (the Next button, wait pages, validation messages, room
pages) and leaves the experimenter's text alone. Each test reads the page a participant gets.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import page_form
from server.config import Settings
from server.i18n import gettext
from tests.conftest import create_demo_session
from tests.form_filling import Click, fill_and_submit


def _client(settings: Settings, language: str) -> Iterator[TestClient]:
    app = create_app(settings.with_changes(language_code=language))
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


@pytest.fixture
def german(settings: Settings) -> Iterator[TestClient]:
    yield from _client(settings, "de")


@pytest.fixture
def english(settings: Settings) -> Iterator[TestClient]:
    yield from _client(settings, "en")


def _first_page(client: TestClient, config: str) -> tuple[str, str]:
    _, links = create_demo_session(client, config)
    start = client.get(links[0])
    assert start.status_code == 200, start.text
    return str(start.url), start.text


def test_german_page_has_german_button_lang_and_required_message(german: TestClient) -> None:
    url, html = _first_page(german, "survey")
    assert '<html lang="de">' in html
    assert ">Weiter</button>" in html
    assert ">Next<" not in html
    answer = german.post(url, data={}, follow_redirects=False)
    assert answer.status_code == 200
    # oTree 6.0.15's words for an empty number or text field (WTForms' German); oTree says
    # "Dieses Feld ist erforderlich." for a BooleanField only, which this page has none of.
    assert "Dieses Feld wird benötigt." in answer.text
    assert "This field is required." not in answer.text


def test_english_is_unchanged(english: TestClient) -> None:
    url, html = _first_page(english, "survey")
    assert '<html lang="en">' in html
    assert ">Next</button>" in html
    answer = english.post(url, data={}, follow_redirects=False)
    assert "This field is required." in answer.text


DEMOGRAPHICS = {
    "age": "30",
    "gender": Click("Female"),
    "temperature": "20",
    "year_in_school": "Junior",
}


def test_german_range_message_keeps_the_value(german: TestClient) -> None:
    url, _ = _first_page(german, "survey")
    answer = fill_and_submit(german, url, {**DEMOGRAPHICS, "age": "500"})
    assert answer.status_code == 200
    # WTForms' German, as oTree 6.0.15 shows it
    assert "Zahl muss zwischen 13 und 125 liegen." in answer.text


def test_boolean_yes_no_are_translated_and_submit_the_same_values(german: TestClient) -> None:
    url, _ = _first_page(german, "survey")
    moved = fill_and_submit(german, url, DEMOGRAPHICS)
    assert moved.status_code in (302, 303), moved.text
    attitudes = str(german.get(moved.headers["location"]).url)
    form = page_form(german.get(attitudes).text)
    assert [o.label for o in form.choices("likes_experiments")] == ["Ja", "Nein"]
    answers = {
        "savings": "40",
        "satisfaction": Click("Happy"),
        "nickname": "Ada",
        "likes_experiments": Click("Ja"),
    }
    done = fill_and_submit(german, attitudes, answers)
    assert done.status_code in (302, 303), done.text
    results = german.get(done.headers["location"]).text
    assert "Ada" in results or "Weiter" in results


def test_wait_page_and_timer_text_in_german(german: TestClient) -> None:
    url, html = _first_page(german, "public_goods")
    # The app's own timer_text stays as the experimenter wrote it.
    assert "Time left to decide:" in html
    waited = fill_and_submit(german, url, {"contribution": "1"})
    waited = german.get(waited.headers["location"])
    assert "Bitte warten" in waited.text
    # The default title is Grove's (translated); the app's own body_text stays as written.
    assert "Waiting for the other members of your group to decide." in waited.text
    assert gettext("Waiting for the other participants.", "de") == (
        "Warten auf die anderen Teilnehmenden."
    )


def test_room_pages_in_german(german: TestClient) -> None:
    page = german.get("/room/econ101")
    assert '<html lang="de">' in page.text
    assert "Bitte geben Sie Ihre Teilnehmerkennung ein" in page.text


def test_message_pages_in_german(german: TestClient) -> None:
    page = german.get("/InitializeParticipant/nosuchcode")
    assert page.status_code == 404
    assert "Nicht gefunden" in page.text


def test_catalog_patterns_and_fallbacks() -> None:
    assert gettext("Ensure this value is less than or equal to 10.", "de") == (
        "Der Wert muss kleiner oder gleich 10 sein."
    )
    assert gettext("Field cannot be longer than 5 characters.", "de") == (
        "Feld kann nicht länger als 5 Zeichen sein."
    )
    # An experimenter's own text, and languages without a catalog, pass through.
    assert gettext("Please answer honestly.", "de") == "Please answer honestly."
    assert gettext("This field is required.", "fr") == "This field is required."
    assert gettext("Next", "en") == "Next"
