"""A refused value gets oTree 6's words beside the field (oTree 6 validates with WTForms).

A number out of a field's min/max:

oTree 6 validates with WTForms' ``NumberRange`` (otree/forms/forms.py), whose messages, in
the project's language (WTForms' own translations), name both bounds when the field has both:
measured on oTree 6.0.15 with ``tests/projects/app_skip`` (``number``: ``min=0, max=10``),
typing 11 gives "Number must be between 0 and 10." and, with ``LANGUAGE_CODE = 'de'``,
"Zahl muss zwischen 0 und 10 liegen.". A field with one bound gets WTForms' "Number must be
at least 1." or "Number must be at most 9." (the latter only with ``min=None``: a number
field without ``min=`` has ``min=0``, in oTree 5.10+ and Grove alike).

Text that is not a number, a choice not offered, a text too long: measured on oTree 6.0.15
with a FloatField, CurrencyField (money), IntegerField, StringField(choices=...) and
StringField(max_length=3) posted "abc", "xyz", "4.5", "z", "abcd": "Not a valid float value",
"Not a valid decimal value", "Not a valid integer value", "Not a valid choice", "Field cannot
be longer than 3 characters." (German: "Keine gültige Gleitkommazahl", "Keine gültige
Dezimalzahl", "Keine gültige, ganze Zahl", "Keine gültige Auswahl", "Feld kann nicht länger
als 3 Zeichen sein.").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import copied_project, create_demo_session
from tests.form_filling import Click, fill_and_submit
from tests.number_pages import field_views, numbers_client, start, submit

PROJECT = Path(__file__).resolve().parent / "projects" / "app_skip"


@pytest.fixture(params=["en", "de"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / "app_skip"
    copied_project(PROJECT, folder)
    settings_file = folder / "settings.py"
    text = settings_file.read_text()
    settings_file.write_text(
        text.replace('LANGUAGE_CODE = "en"', f'LANGUAGE_CODE = "{request.param}"')
    )
    settings = load_settings(folder, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.grove.db.dispose()


def test_a_number_above_max_is_refused_naming_both_bounds(client: TestClient) -> None:
    _, links = create_demo_session(client, "skip")
    start = client.get(links[0], follow_redirects=True)
    german = 'lang="de"' in start.text
    consented = fill_and_submit(client, start.url.path, {"agree": Click("Ja" if german else "Yes")})
    refused = fill_and_submit(client, consented.headers["location"], {"number": "11"})
    assert refused.status_code == 200
    errors = re.findall(r'class="[^"]*grove-error[^"]*"[^>]*>([^<]+)<', refused.text)
    expected = (
        "Zahl muss zwischen 0 und 10 liegen." if german else "Number must be between 0 and 10."
    )
    assert expected in errors, errors


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            {
                "f_plain": "Not a valid float value",
                "c_plain": "Not a valid decimal value",
                "i_plain": "Not a valid integer value",
            },
        ),
        (
            "de",
            {
                "f_plain": "Keine gültige Gleitkommazahl",
                "c_plain": "Keine gültige Dezimalzahl",
                "i_plain": "Keine gültige, ganze Zahl",
            },
        ),
    ],
)
def test_text_that_is_not_a_number(tmp_path: Path, language: str, words: dict[str, str]) -> None:
    with numbers_client(tmp_path, use_points=False, language_code=language) as (client, _):
        (url,) = start(client)
        refused = submit(client, url, {"f_plain": "abc", "c_plain": "xyz", "i_plain": "4.5"})
        assert refused.status_code == 200
        views = field_views(refused.text)
        assert {name: views[name].error for name in words} == words


def test_a_choice_not_offered_and_a_text_too_long(client: TestClient) -> None:
    _, links = create_demo_session(client, "skip")
    start_page = client.get(links[0], follow_redirects=True)
    german = 'lang="de"' in start_page.text
    refused = client.post(
        start_page.url.path,
        data={"agree": "True", "heard_from": "radio", "nickname": "abcdefghijk"},
        follow_redirects=False,
    )
    assert refused.status_code == 200
    errors = re.findall(r'class="[^"]*grove-error[^"]*"[^>]*>([^<]+)<', refused.text)
    if german:
        assert "Keine gültige Auswahl" in errors, errors
        assert "Feld kann nicht länger als 10 Zeichen sein." in errors, errors
    else:
        assert "Not a valid choice" in errors, errors
        assert "Field cannot be longer than 10 characters." in errors, errors
