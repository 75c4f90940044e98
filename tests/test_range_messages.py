"""A number out of a field's min/max is refused with oTree 6's words beside the field.

oTree 6 validates with WTForms' ``NumberRange`` (otree/forms/forms.py), whose messages, in
the project's language (WTForms' own translations), name both bounds when the field has both:
measured on oTree 6.0.15 with ``tests/projects/app_skip`` (``number``: ``min=0, max=10``),
typing 11 gives "Number must be between 0 and 10." and, with ``LANGUAGE_CODE = 'de'``,
"Zahl muss zwischen 0 und 10 liegen.". A field with one bound gets WTForms' "Number must be
at least 1." or "Number must be at most 9." (oTree's implicit ``min=0`` makes the latter rare
there; Grove has no implicit minimum, README "What differs from oTree").
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session
from tests.form_filling import Click, fill_and_submit

PROJECT = Path(__file__).resolve().parent / "projects" / "app_skip"


@pytest.fixture(params=["en", "de"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / "app_skip"
    shutil.copytree(PROJECT, folder, ignore=shutil.ignore_patterns("__pycache__"))
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
