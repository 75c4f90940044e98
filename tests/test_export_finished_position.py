"""A participant who finished the session keeps, in the exports, the position oTree leaves:
``participant._current_app_name`` and ``_current_page_name`` name the last page of the session's
page sequence, even one never displayed.

oTree 6.0.15 sets both on every page it looks at while moving a participant on
(``Page.set_attributes`` in ``_increment_index_in_pages``, the pages skipped by
``is_displayed`` included) and leaves them when the participant runs off the end. On
``tests/projects/finished`` (``otree test fin --export``) its all_apps_wide.csv reads
``quiz`` and ``Skipped``: round 2's last page, whose ``is_displayed`` is False.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.config import Settings, load_settings
from tests import databases
from tests.conftest import copied_project, create_demo_session
from tests.form_filling import fill_and_submit
from tests.rest_helpers import HEADERS, REST_KEY

PROJECT = Path(__file__).resolve().parent / "projects" / "finished"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    folder = tmp_path / "finished"
    copied_project(PROJECT, folder)
    loaded = load_settings(folder, {"DATABASE_URL": databases.database_url(tmp_path)})
    return loaded.with_changes(rest_key=REST_KEY)


def _exported(client: TestClient, name: str) -> list[dict[str, str]]:
    response = client.get(f"/api/export/{name}", headers=HEADERS)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _position(row: dict[str, str]) -> tuple[str, str]:
    return row["participant._current_app_name"], row["participant._current_page_name"]


def test_a_finished_participant_is_exported_on_the_last_page_of_the_sequence(
    client: TestClient,
) -> None:
    _code, [link] = create_demo_session(client, "fin")
    url = client.get(link, follow_redirects=True).url.path
    [row] = _exported(client, "all_apps_wide")
    assert _position(row) == ("quiz", "Ask")  # on a page: that page, as in oTree
    for answer in ("1", "2"):
        submitted = fill_and_submit(client, url, {"answer": answer})
        assert submitted.status_code == 303, submitted.text
        url = submitted.headers["location"]
    assert "finished" in url  # past the last page

    [wide] = _exported(client, "all_apps_wide")
    assert _position(wide) == ("quiz", "Skipped")
    assert (wide["participant._index_in_pages"], wide["participant._max_page_index"]) == ("5", "4")
    assert [_position(row) for row in _exported(client, "quiz")] == [("quiz", "Skipped")] * 2
