"""The admin's sessions: the list (newest first, paginated, archived ones behind a toggle),
"Create session" with every config field editable by its kind, the description, archiving,
and deleting with a confirmation, which leaves no row of the session anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import parse_forms
from server.config import load_settings
from tests import databases
from tests.admin_pages import database_snapshot, form_with_action, submit_form
from tests.conftest import create_demo_session
from tests.form_filling import Click, fill_and_submit
from tests.test_config_values import write_project


def _codes_listed(html: str) -> list[str]:
    return re.findall(r'<td><a href="/SessionStartLinks/(\w+)">', html)


def _create_by_api(client: TestClient, config: str = "survey", **extra) -> str:
    response = client.post(
        "/api/sessions/", json={"session_config_name": config, "num_participants": 1, **extra}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["code"]


def test_the_list_is_newest_first_paginated_and_hides_archived_sessions(client):
    codes = [_create_by_api(client) for _ in range(53)]
    first = client.get("/sessions")
    assert _codes_listed(first.text) == codes[::-1][:50]
    assert "Page 1 of 2 (53 sessions)" in first.text
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</td>", first.text)  # UTC
    older = client.get("/sessions?page=2")
    assert _codes_listed(older.text) == codes[::-1][50:]
    assert _codes_listed(client.get("/sessions?page=9").text) == codes[::-1][50:]  # the last
    assert client.get("/sessions?page=0").status_code == 400
    assert client.get("/sessions?page=x").status_code == 400

    archived = submit_form(client, "/sessions", f"/sessions/{codes[-1]}/archive")
    assert archived.status_code == 303
    assert archived.headers["location"] == "/sessions"
    listed = client.get("/sessions").text
    assert codes[-1] not in _codes_listed(listed)
    assert "Show archived sessions (1)" in listed
    assert _codes_listed(client.get("/sessions?archived=1").text) == [codes[-1]]

    back = submit_form(client, "/sessions?archived=1", f"/sessions/{codes[-1]}/archive")
    assert back.headers["location"] == "/sessions?archived=1"
    assert _codes_listed(client.get("/sessions").text)[0] == codes[-1]
    assert _codes_listed(client.get("/sessions?archived=1").text) == []


@pytest.fixture
def pay_client(tmp_path) -> Iterator[tuple[TestClient, sa.Engine]]:
    """A project whose defaults have a bool, a text, a whole number and None besides the fee
    and the rate."""
    root = write_project(tmp_path / "project")
    settings = load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    engine = databases.engine(settings.database_url)
    with TestClient(app, follow_redirects=False) as client:
        yield client, engine
    engine.dispose()
    app.state.grove.db.dispose()


def _config_inputs(html: str) -> dict[str, tuple[str, str | None]]:
    form = form_with_action(html, "/sessions/create")
    return {
        c.name: (c.type, c.value)
        for c in form.controls
        if c.name.startswith("config.") and c.tag == "input"
    }


def test_create_offers_each_config_field_with_the_input_of_its_kind(pay_client):
    client, _engine = pay_client
    page = client.get("/sessions/create?config=pay").text
    inputs = _config_inputs(page)
    assert inputs == {
        "config.participation_fee": ("text", "2.0"),
        "config.real_world_currency_per_point": ("text", "0.5"),
        "config.show_hints": ("checkbox", "on"),
        "config.title": ("text", "Study"),
        "config.rounds": ("number", "3"),
    }
    assert 'inputmode="decimal"' in page
    box = next(
        c for c in form_with_action(page, "/sessions/create").controls if c.type == "checkbox"
    )
    assert box.checked


def test_create_stores_the_changed_fields_as_their_kinds(pay_client):
    client, _engine = pay_client
    created = submit_form(
        client,
        "/sessions/create?config=pay",
        "/sessions/create",
        {
            "num_participants": "3",
            "label": "Monday pilot",
            "description": "Room B, 3 people",
            "config.show_hints": False,
            "config.title": "Pilot",
            "config.rounds": "5",
            "config.participation_fee": "3.5",
        },
    )
    assert created.status_code == 303, created.text
    code = created.headers["location"].rsplit("/", 1)[-1]
    detail = client.get(f"/api/sessions/{code}").json()
    config = detail["config"]
    assert config["show_hints"] is False
    assert config["title"] == "Pilot"
    assert config["rounds"] == 5
    assert config["participation_fee"] == 3.5
    assert config["real_world_currency_per_point"] == 0.5
    assert len(detail["participants"]) == 3
    assert detail["label"] == "Monday pilot"
    links = client.get(created.headers["location"]).text
    assert "Room B, 3 people" in links
    assert "Monday pilot" in links
    assert "Room B, 3 people" in client.get("/sessions").text


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"config.rounds": "many"}, "config.rounds", "must be a number"),
        ({"config.participation_fee": "five dollars"}, "config.participation_fee", "number"),
        ({"num_participants": "0"}, "num_participants", "positive integer"),
        ({"num_participants": "two"}, "num_participants", "whole number"),
        ({"label": "x" * 256}, "label", "at most 255"),
        ({"description": "x" * 10_001}, "description", "at most 10000"),
    ],
)
def test_a_refused_create_shows_the_error_beside_its_field_and_writes_nothing(
    pay_client, values, field, message
):
    client, engine = pay_client
    before = database_snapshot(engine)
    response = submit_form(client, "/sessions/create?config=pay", "/sessions/create", values)
    assert response.status_code == 400, response.text
    assert message in response.text
    assert database_snapshot(engine) == before
    form = form_with_action(response.text, "/sessions/create")
    (typed,) = [c for c in form.controls if c.name == field]
    assert (typed.value if typed.tag == "input" else typed.text) == next(iter(values.values()))
    assert re.search(r'class="grove-field has-error">\s*<label[^>]*>[^<]*</label>', response.text)


def test_create_in_a_room_and_with_study_auth_outside_one(settings):
    app = create_app(settings.with_changes(auth_level="STUDY", admin_password="pw"))
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/demo").status_code == 403  # STUDY closes the demo
        assert client.get("/sessions/create").status_code == 303  # to the login page
        submit_form(client, "/login", "/login", {"username": "admin", "password": "pw"})
        created = submit_form(
            client, "/sessions/create?config=survey", "/sessions/create", {"num_participants": "2"}
        )
        assert created.status_code == 303, created.text
        links = client.get(created.headers["location"]).text
        assert "/join/" in links
        assert "grove-room-link" not in links
        in_room = submit_form(
            client,
            "/sessions/create?config=survey",
            "/sessions/create",
            {"num_participants": "1", "room": "live_demo"},
        )
        links = client.get(in_room.headers["location"]).text
        assert 'class="grove-room-link">http://testserver/room/live_demo/<' in links
        room_page = client.get("/room/live_demo/")
        assert room_page.status_code == 200
        assert "Start" in room_page.text
    app.state.grove.db.dispose()


def test_description_is_saved_from_the_session_page(client):
    code = _create_by_api(client)
    saved = submit_form(
        client,
        f"/SessionStartLinks/{code}",
        f"/sessions/{code}/description",
        {"description": "  Pilot; pay double  "},
    )
    assert saved.status_code == 303
    page = client.get(f"/SessionStartLinks/{code}").text
    assert "Pilot; pay double</textarea>" in page
    too_long = submit_form(
        client,
        f"/SessionStartLinks/{code}",
        f"/sessions/{code}/description",
        {"description": "x" * 10_001},
    )
    assert too_long.status_code == 400
    assert "Pilot; pay double</textarea>" in client.get(f"/SessionStartLinks/{code}").text


def test_unknown_sessions_are_404_pages(client):
    assert client.get("/SessionStartLinks/nosuchcode").status_code == 404
    assert client.get("/sessions/nosuchcode/delete").status_code == 404
    token = dict(form_with_action(client.get("/logout").text, "/logout").submission())
    for action in ("archive", "description", "delete"):
        response = client.post(f"/sessions/nosuchcode/{action}", data={**token, "archived": "1"})
        assert response.status_code == 404, action
        assert "<h1>" in response.text


def _rows_of(engine: sa.Engine) -> dict[str, list[dict]]:
    with engine.connect() as connection:
        return {
            name: [
                dict(row._mapping) for row in connection.execute(sa.text(f'SELECT * FROM "{name}"'))
            ]
            for name in sa.inspect(engine).get_table_names()
        }


def _play_a_little(client: TestClient, config: str) -> tuple[str, list[str]]:
    """A demo session whose participants have started, chatted and reached a wait page."""
    code, links = create_demo_session(client, config)
    urls = [client.get(link, follow_redirects=False).headers["location"] for link in links]
    pages = [client.get(url).text for url in urls]
    if config == "prisoner":
        token = re.search(r'data-token="([^"]+)"', pages[0]).group(1)
        chat = urls[0].split("/prisoner/")[0] + "/chat"
        assert client.post(chat, json={"token": token, "body": "hi"}).json()["ok"]
        submitted = fill_and_submit(client, urls[0], {"cooperate": Click("Cooperate")})
        assert submitted.status_code == 303, submitted.text
        client.get(submitted.headers["location"])
    return code, urls


def test_delete_asks_first_then_removes_every_row_of_the_session(app, client):
    engine = databases.engine(app.state.grove.settings.database_url)
    try:
        doomed, _ = _play_a_little(client, "prisoner")
        kept, _ = _play_a_little(client, "prisoner")
        randomized, _ = _play_a_little(client, "randomized_trial")
        room = _create_by_api(client, room_name="live_demo")
        waiting = client.post(
            "/api/participant_vars/",
            json={"room_name": "live_demo", "participant_label": "zed", "vars": {"a": 1}},
        )
        assert waiting.status_code in (200, 201), waiting.text

        rows = _rows_of(engine)
        session_ids = {r["code"]: r["id"] for r in rows["grove_session"]}
        assert any(r["session_id"] == session_ids[doomed] for r in rows["grove_chat_message"])
        assert any(r["session_id"] == session_ids[doomed] for r in rows["grove_wait_arrival"])
        assert rows["grove_urn_assignment"]
        assert rows["grove_pending_vars"]

        confirm = client.get(f"/sessions/{doomed}/delete")
        assert confirm.status_code == 200
        assert "cannot be undone" in confirm.text
        assert doomed in _codes_listed(client.get("/sessions").text)  # asking deletes nothing

        for code in (doomed, randomized, room):
            deleted = submit_form(client, f"/sessions/{code}/delete", f"/sessions/{code}/delete")
            assert deleted.status_code == 303, deleted.text
            assert client.get(f"/SessionStartLinks/{code}").status_code == 404
        assert _codes_listed(client.get("/sessions").text) == [kept]

        after = _rows_of(engine)
        kept_id = session_ids[kept]
        participant_ids = {r["id"] for r in after["grove_participant"]}
        for name, table_rows in after.items():
            for row in table_rows:
                if "session_id" in row and name != "grove_urn_assignment":
                    assert row["session_id"] == kept_id, (name, row)
                if row.get("participant_id") is not None:
                    assert row["participant_id"] in participant_ids, (name, row)
            before_kept = [r for r in rows[name] if r.get("session_id") == kept_id]
            assert [r for r in table_rows if r.get("session_id") == kept_id] == before_kept, name
        # The urn's log keeps the draws (its study's history), without the deleted participant.
        assert len(after["grove_urn_assignment"]) == len(rows["grove_urn_assignment"])
        assert all(r["participant_id"] is None for r in after["grove_urn_assignment"])
        # The room's session is gone: the room is closed and its waiting vars dropped.
        assert after["grove_pending_vars"] == []
        rooms = {r["name"]: r["session_code"] for r in client.get("/api/rooms").json()}
        assert rooms["live_demo"] is None
    finally:
        engine.dispose()


def test_the_delete_button_is_on_a_confirmation_page_only(client):
    code = _create_by_api(client)
    links = client.get(f"/SessionStartLinks/{code}").text
    assert f'href="/sessions/{code}/delete"' in links
    assert not [f for f in parse_forms(links) if f.action == f"/sessions/{code}/delete"]
