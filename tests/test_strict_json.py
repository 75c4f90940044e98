"""JSON and numbers a request sends that Python reads but Grove cannot keep: each is a 400
that names the problem, and nothing is written (server/http/json_input.py,
server/http/query_numbers.py)."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from tests import databases
from tests.rest_helpers import assert_error_shape, table_counts

JSON = {"content-type": "application/json"}
BIG = "9" * 5000


@pytest.fixture
def session_code(client):
    created = client.post(
        "/api/sessions/", json={"session_config_name": "trust", "num_participants": 2}
    )
    assert created.status_code == 200, created.text
    return created.json()["code"]


@pytest.fixture
def engine(settings):
    engine = databases.engine(settings.database_url)
    yield engine
    engine.dispose()


def post_vars(client, code: str, vars_text: str):
    return client.post(
        f"/api/session_vars/{code}", content='{"vars": {"a": ' + vars_text + "}}", headers=JSON
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NaN", "NaN is not a JSON number"),
        ("Infinity", "Infinity is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
        ("[1, NaN]", "NaN is not a JSON number"),
        ("1e999", "too large"),
        ("-1e999", "too large"),
        ("9223372036854775808", "out of range"),
        ("-9223372036854775809", "out of range"),
        ("12345678901234567890123", "out of range"),
        (BIG, "(5000 digits) is out of range"),
        ("[" * 99 + "]" * 99, "nested more than 100 levels"),  # 101 with vars and a
        ("[" * 100_000 + "]" * 100_000, "nested more than 100 levels"),
        ('"\\ud800"', "vars.a contains an unpaired surrogate"),
        ('{"\\udfff": 1}', "a key of vars.a contains an unpaired surrogate"),
    ],
)
def test_json_the_database_cannot_keep_is_a_400_and_writes_nothing(
    client, engine, session_code, value, message
):
    before = table_counts(engine)
    detail_before = client.get(f"/api/sessions/{session_code}").json()["vars"]
    body = assert_error_shape(post_vars(client, session_code, value), 400)
    assert message in body["error"]
    assert table_counts(engine) == before
    detail = client.get(f"/api/sessions/{session_code}")
    assert detail.status_code == 200
    assert detail.json()["vars"] == detail_before == {}


def test_a_surrogate_names_the_field(client, session_code):
    body = assert_error_shape(post_vars(client, session_code, '"\\ud800"'), 400)
    assert body["errors"] == [{"field": "vars.a", "message": body["error"]}]


@pytest.mark.parametrize(
    "value",
    [
        "9223372036854775807",
        "-9223372036854775808",
        "1.5e300",
        "[" * 98 + "7" + "]" * 98,  # with {"vars": {"a": ...}}, 100 levels in all
        '"\\ud83d\\ude00"',  # a surrogate pair is one character
    ],
)
def test_json_at_the_limits_is_stored(client, session_code, value):
    assert post_vars(client, session_code, value).status_code == 200
    assert client.get(f"/api/sessions/{session_code}").json()["vars"]["a"] == json.loads(value)


def test_strict_json_on_every_json_endpoint(client, session_code):
    participant = client.get(f"/api/sessions/{session_code}").json()["participants"][0]["code"]
    for path in (
        "/api/sessions/",
        f"/api/sessions/{session_code}",
        f"/api/participant_vars/{participant}",
        "/api/session_vars/",
        f"/api/get_session/{session_code}",
        f"/api/sessions/{session_code}/randomize",
    ):
        method = "GET" if path == f"/api/sessions/{session_code}" else "POST"
        response = client.request(method, path, content='{"x": NaN}', headers=JSON)
        assert_error_shape(response, 400)
    reference = client.post("/study_participants", content='{"study": Infinity}', headers=JSON)
    assert reference.status_code == 400
    assert "Infinity is not a JSON number" in reference.json()["message"]


def test_a_field_name_with_too_many_dots_is_a_400(client, session_code):
    form = {"vars" + ".a" * 200: "1"}
    response = client.post(f"/api/session_vars/{session_code}", data=form)
    assert "more than 100 dots" in assert_error_shape(response, 400)["error"]


@pytest.mark.parametrize("count", ["²", "-" + BIG, BIG, "٣", "1" * 19])
def test_num_participants_that_is_no_small_number_is_a_400(client, engine, count):
    before = table_counts(engine)
    response = client.post(
        "/api/sessions/", data={"session_config_name": "trust", "num_participants": count}
    )
    assert assert_error_shape(response, 400)["errors"][0]["field"] == "num_participants"
    assert table_counts(engine) == before


@pytest.fixture
def chat(client):
    created = client.post(
        "/api/sessions/", json={"session_config_name": "prisoner", "num_participants": 2}
    ).json()
    code = client.get(f"/api/sessions/{created['code']}").json()["participants"][0]["code"]
    page = client.get(f"/InitializeParticipant/{code}").text
    token = re.search(r'data-token="([^"]+)"', page).group(1)
    return code, token


@pytest.mark.parametrize("after", ["9" * 20, "2147483648", "-1", "abc", "", "1.5", "٣", "1e3", BIG])
def test_chat_after_that_is_no_message_id_is_a_400(client, chat, after):
    code, token = chat
    response = client.get(f"/p/{code}/chat", params={"token": token, "after": after})
    body = assert_error_shape(response, 400)
    assert body["errors"][0]["field"] == "after"


def test_chat_after_at_the_limit_reads_nothing_new(client, chat):
    code, token = chat
    assert client.post(f"/p/{code}/chat", json={"token": token, "body": "hi"}).status_code == 200
    newest = client.get(f"/p/{code}/chat", params={"token": token, "after": "2147483647"})
    assert newest.json() == {"messages": []}
    everything = client.get(f"/p/{code}/chat", params={"token": token, "after": "0"})
    assert [m["body"] for m in everything.json()["messages"]] == ["hi"]


@pytest.mark.parametrize(
    "content",
    [
        '{"token": "t", "body": NaN}',
        '{"body": "' + "\\ud800" + '"}',
        "[" * 5000,
        '{"n": ' + BIG + "}",
    ],
)
def test_chat_post_of_json_grove_refuses_is_a_400(client, engine, chat, content):
    code, _token = chat
    before = table_counts(engine)
    response = client.post(f"/p/{code}/chat", content=content, headers=JSON)
    assert "send a JSON object" in assert_error_shape(response, 400)["error"]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM grove_chat_message")).scalar() == 0
    assert table_counts(engine) == before
