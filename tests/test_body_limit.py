"""Every request body is size-limited as the API's always was (server/http/body_limit.py):
participant forms, chat posts, room forms and admin forms answer 413 in their route family's
shape, declared or chunked, and nothing is written."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests import databases
from tests.rest_helpers import assert_error_shape, table_counts

LIMIT = 20_000


@pytest.fixture
def small(settings) -> Iterator[tuple[TestClient, object]]:
    app = create_app(settings.with_changes(max_body_bytes=LIMIT))
    engine = databases.engine(settings.database_url)
    with TestClient(app) as client:
        yield client, engine
    engine.dispose()
    app.state.grove.db.dispose()


def start_survey(client: TestClient) -> str:
    """The first page of a survey participant, by its URL path."""
    created = client.post(
        "/api/sessions/", json={"session_config_name": "survey", "num_participants": 1}
    )
    code = client.get(f"/api/sessions/{created.json()['code']}").json()["participants"][0]["code"]
    started = client.get(f"/InitializeParticipant/{code}", follow_redirects=False)
    return started.headers["location"].replace("http://testserver", "")


DEMOGRAPHICS = {"age": "30", "gender": "Female", "temperature": "1", "year_in_school": "Junior"}


def chunks(total: int, size: int = 4096) -> Iterator[bytes]:
    """A form body sent without a Content-Length (chunked)."""
    yield b"age=30&padding="
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


def test_participant_form_over_the_limit_is_a_413_page_and_changes_nothing(small):
    client, engine = small
    page = start_survey(client)
    before = table_counts(engine)
    form = {**DEMOGRAPHICS, "padding": "x" * LIMIT}
    response = client.post(page, data=form, follow_redirects=False)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert f"larger than {LIMIT} bytes" in response.text
    assert table_counts(engine) == before
    assert client.get(page).status_code == 200  # still on the same page
    accepted = client.post(page, data=DEMOGRAPHICS, follow_redirects=False)
    assert accepted.status_code == 303, accepted.text


def test_a_chunked_body_is_counted_as_it_arrives(small):
    client, engine = small
    page = start_survey(client)
    before = table_counts(engine)
    response = client.post(
        page,
        content=chunks(LIMIT * 3),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert f"larger than {LIMIT} bytes" in response.text
    assert table_counts(engine) == before


def test_a_body_just_under_the_limit_is_read(small):
    client, _engine = small
    page = start_survey(client)
    body = "&".join(f"{k}={v}" for k, v in DEMOGRAPHICS.items()) + "&pad="
    body += "x" * (LIMIT - len(body))
    assert len(body) == LIMIT
    response = client.post(
        page,
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_chat_and_api_over_the_limit_are_json_413s(small):
    client, engine = small
    created = client.post(
        "/api/sessions/", json={"session_config_name": "prisoner", "num_participants": 2}
    )
    code = client.get(f"/api/sessions/{created.json()['code']}").json()["participants"][0]["code"]
    token = re.search(r'data-token="([^"]+)"', client.get(f"/InitializeParticipant/{code}").text)[1]
    before = table_counts(engine)
    chat = client.post(f"/p/{code}/chat", json={"token": token, "body": "x" * LIMIT})
    assert "larger than" in assert_error_shape(chat, 413)["error"]
    chunked = client.post(
        f"/p/{code}/chat", content=chunks(LIMIT * 2), headers={"content-type": "application/json"}
    )
    assert_error_shape(chunked, 413)
    api = client.post(f"/api/participant_vars/{code}", json={"vars": {"x": "y" * LIMIT}})
    assert_error_shape(api, 413)
    assert table_counts(engine) == before


def test_room_and_admin_forms_over_the_limit_are_413(small):
    client, engine = small
    before = table_counts(engine)
    room = client.post("/room/live_demo/", data={"participant_label": "x" * LIMIT})
    assert room.status_code == 413
    assert room.headers["content-type"].startswith("text/html")
    admin = client.post(
        "/rooms/live_demo", data={"config": "survey", "num_participants": "1" * LIMIT}
    )
    assert admin.status_code == 413
    assert table_counts(engine) == before


def test_a_content_length_that_is_no_number_is_a_400(small):
    client, _engine = small
    page = start_survey(client)
    for declared in ("abc", "-1", "1e9"):
        response = client.post(
            page,
            content=b"age=30",
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "content-length": declared,
            },
        )
        assert response.status_code == 400, (declared, response.text)
        assert "Content-Length is not a number" in response.text


def test_multipart_with_a_file_or_too_many_fields_is_a_400_not_a_500(small):
    client, engine = small
    page = start_survey(client)
    before = table_counts(engine)
    with_file = client.post(page, data=DEMOGRAPHICS, files={"age": ("a.txt", b"30")})
    assert with_file.status_code == 400
    assert "Too many files" in with_file.text
    many = client.post(page, data={f"f{i}": "" for i in range(1001)})
    assert many.status_code == 400
    assert "Too many fields" in many.text
    assert table_counts(engine) == before
    assert client.post(page, data=DEMOGRAPHICS, follow_redirects=False).status_code == 303
