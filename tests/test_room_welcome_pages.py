"""oTree 6's room welcome pages (oTree's docs, rooms.rst, "Room welcome pages"): a room's
``welcome_page`` (a project file) is what a visitor first sees; the page sends them on by
adding ``welcome_page_ok=1`` to the room's URL, and can check a typed label first with a JSON
POST to the room's URL, answered ``{"errors": {...}}`` or ``{"status": "ok"}``.

Expected answers are oTree 6.0.15's (``validate_room_visitor`` and ``AssignVisitorToRoom`` in
otree/views/participant.py, read from a devserver): a label not in the file gives
``"This participant label was not found"``, none gives ``"Please enter a participant label"``;
a room without labels answers ``{"status": "ok"}``; the check seats nobody.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings, load_settings
from server.errors import ConfigurationError
from tests import databases
from tests.conftest import copied_project

PROJECT = Path(__file__).resolve().parent / "projects" / "app_skip"

# The welcome page of oTree's docs ("Simple case: button only, no form fields"), verbatim.
DOCS_WELCOME_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
    <title>Welcome</title>
</head>
<body>
    <h2>
        Welcome
    </h2>
    <div>
        <form>
            <button type="submit">Start</button>
        </form>
    </div>

    <script>
        const urlParams = new URLSearchParams(window.location.search);

        document.querySelector('form').addEventListener('submit', function(e) {
            e.preventDefault();
            urlParams.set('welcome_page_ok', '1');
            window.location.href = window.location.pathname + '?' + urlParams.toString();
        });
    </script>
</body>
</html>
"""

ROOMS = """
ROOMS = [
    dict(name="lab", display_name="Lab", participant_label_file="_rooms/lab.txt",
         welcome_page="_welcome_pages/RoomWelcomePage.html"),
    dict(name="open", display_name="Open room"),
]
"""


def _project(tmp_path: Path, rooms: str = ROOMS) -> Path:
    folder = tmp_path / "welcome"
    copied_project(PROJECT, folder)
    with (folder / "settings.py").open("a", encoding="utf-8") as settings_file:
        settings_file.write(rooms)
    (folder / "_rooms").mkdir()
    (folder / "_rooms" / "lab.txt").write_text("A1\nA2\nA3\n", encoding="utf-8")
    (folder / "_welcome_pages").mkdir()
    (folder / "_welcome_pages" / "RoomWelcomePage.html").write_text(DOCS_WELCOME_PAGE)
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(_project(tmp_path), {"DATABASE_URL": databases.database_url(tmp_path)})


def _create_session(client: TestClient, room: str) -> str:
    created = client.post(
        "/api/sessions/",
        json={"session_config_name": "skip", "num_participants": 3, "room_name": room},
    )
    assert created.status_code == 200, created.text
    return str(created.json()["code"])


def _labels(client: TestClient, code: str) -> list[str | None]:
    return [p["label"] for p in client.get(f"/api/sessions/{code}").json()["participants"]]


def test_the_rooms_welcome_page_is_shown_first(client: TestClient) -> None:
    for url in ("/room/lab/", "/room/lab", "/room/lab/?participant_label=A1"):
        page = client.get(url)
        assert page.status_code == 200
        # Rendered as oTree renders it, through the template engine (a final newline dropped).
        assert page.text == DOCS_WELCOME_PAGE.rstrip("\n")
    # A room without one keeps the built-in first page.
    assert "grove-start" in client.get("/room/open/").text


@pytest.mark.parametrize(
    ("sent", "answer"),
    [
        ({"participant_label": "A2"}, {"status": "ok"}),
        (
            {"participant_label": "ZZ"},
            {"errors": {"participant_label": "This participant label was not found"}},
        ),
        ({}, {"errors": {"participant_label": "Please enter a participant label"}}),
        (
            {"participant_label": ""},
            {"errors": {"participant_label": "Please enter a participant label"}},
        ),
    ],
)
def test_a_label_is_checked_over_json_and_nobody_is_seated(
    client: TestClient, sent: dict[str, str], answer: dict[str, object]
) -> None:
    code = _create_session(client, "lab")
    for url in ("/room/lab/", "/room/lab"):
        checked = client.post(url, json=sent)
        assert checked.status_code == 200, checked.text
        assert checked.json() == answer
    assert _labels(client, code) == [None, None, None]


def test_a_label_in_the_query_is_checked_with_the_json(client: TestClient) -> None:
    """oTree merges the URL's query into the posted JSON before checking."""
    checked = client.post("/room/lab/?participant_label=A3", json={})
    assert checked.json() == {"status": "ok"}


def test_a_room_without_labels_answers_ok(client: TestClient) -> None:
    assert client.post("/room/open/", json={}).json() == {"status": "ok"}


def test_welcome_page_ok_goes_on_without_a_second_click(client: TestClient) -> None:
    """oTree seats the visitor at once on ``welcome_page_ok=1``. Grove answers with its start
    form, which the page submits by itself (a seat is still taken by a POST only, so a link
    preview robot that fetches the URL seats nobody); the POST then seats the label."""
    code = _create_session(client, "lab")
    page = client.get("/room/lab/?participant_label=A1&welcome_page_ok=1")
    assert page.status_code == 200
    assert "<h2>" not in page.text  # not the welcome page again
    assert 'id="grove-room-form"' in page.text
    assert "data-grove-autostart" in page.text
    assert "grove-room-start.js" in page.text
    assert _labels(client, code) == [None, None, None]
    joined = client.post("/room/lab/", data={"participant_label": "A1"}, follow_redirects=False)
    assert joined.status_code == 303
    assert _labels(client, code).count("A1") == 1
    script = client.get("/grove_static/grove-room-start.js")
    assert script.status_code == 200
    assert "data-grove-autostart" in script.text
    assert ".submit()" in script.text


def test_without_welcome_page_ok_the_start_form_waits_for_a_click(client: TestClient) -> None:
    page = client.get("/room/open/")
    assert "data-grove-autostart" not in page.text


def test_a_missing_welcome_page_stops_the_server_at_start(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    (folder / "_welcome_pages" / "RoomWelcomePage.html").unlink()
    settings = load_settings(folder, {"DATABASE_URL": databases.database_url(tmp_path)})
    with pytest.raises(ConfigurationError, match=r"RoomWelcomePage\.html"):
        create_app(settings)


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"participant_label": NaN}', b"\xff", b"[1]", b"{"],
    ids=["nested", "nan", "not-utf-8", "a-list", "cut-off"],
)
def test_a_bad_json_label_check_is_a_400(client: TestClient, body: bytes) -> None:
    """Found by the route fuzz (tests/reliability/test_fuzz.py): JSON nested deeper than
    Python's recursion limit was a 500."""
    answer = client.post("/room/lab/", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
