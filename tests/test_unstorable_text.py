"""NUL characters, lone surrogates and over-long codes: a clear 4xx in the shape of the route
family (or a form error beside the field), never a 500, and nothing written.

PostgreSQL refuses NUL in text, so the same cases run against a live PostgreSQL-backed server
with two workers in the slow suite; SQLite stores NUL, so the fast suite checks the rule.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from server.app import create_app
from server.chat import MAX_MESSAGE_LENGTH, MAX_NAME_LENGTH, chat_seat
from server.config import load_settings
from server.db import normalise_database_url
from server.fields import FieldValueError, models
from server.http.errors import json_family
from server.storable_text import unstorable_character, unstorable_strings
from tests import databases
from tests.conftest import REPO_ROOT
from tests.live_server import live_server
from tests.unstorable_cases import (
    CASES,
    JSON,
    LONG,
    NUL_FIELD_ERROR,
    PAGE,
    REFERENCE,
    Case,
    _fill,
    build_world,
    check_answer,
    field_error,
    snapshot,
)

# slow: every unstorable string into every route family.
pytestmark = pytest.mark.slow

STATIC = REPO_ROOT / "server" / "static"


@pytest.fixture(scope="module")
def world_client(tmp_path_factory):
    """One database with the sessions every case points into, for the whole module."""
    database_url = databases.database_url(tmp_path_factory.mktemp("unstorable"), "unstorable")
    app = create_app(load_settings(REPO_ROOT, {"DATABASE_URL": database_url}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, build_world(client), app.state.grove.db.engine
    app.state.grove.db.dispose()


def _send(client, case: Case, world):
    return client.request(case.method, _fill(case.path, world), **case.request(world))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_unstorable_text_is_refused_and_nothing_is_written(world_client, case):
    client, world, engine = world_client
    before = snapshot(engine)
    check_answer(case, _send(client, case, world))
    assert snapshot(engine) == before


def test_a_damaged_cookie_in_a_later_cookie_header_is_refused_too(world_client):
    """A browser over HTTP/2, and nginx before 1.23, send each cookie in a Cookie header of
    its own: the damaged one is refused wherever it comes, and nothing is written."""
    client, world, engine = world_client
    before = snapshot(engine)
    split = [("cookie", "theme=dark"), ("cookie", 'grove_browser="a\\000b"')]
    response = client.post(f"/join/{world.join}", headers=split)
    assert response.status_code == 400
    assert "cookie grove_browser is damaged" in response.text
    assert snapshot(engine) == before


# Each route family answers its errors in its own shape, whatever went wrong.
FAMILY_CASES = [
    Case("page-unknown-participant", "GET", "/p/nosuch/survey/Demographics/1", PAGE, 404),
    Case("page-unknown-initialize", "GET", "/InitializeParticipant/nosuch", PAGE, 404),
    Case("page-unknown-join", "POST", "/join/nosuch", PAGE, 404),
    Case("page-no-route", "GET", "/no/such/page", PAGE, 404),
    Case("api-unknown-session", "GET", "/api/sessions/nosuch", JSON, 404),
    Case("api-no-route", "GET", "/api/no_such_endpoint", JSON, 404),
    Case("api-bad-body", "POST", "/api/sessions/", JSON, 400, "not valid JSON", content="{"),
    Case("api-wrong-method", "DELETE", "/api/sessions/{session}", JSON, 405),
    Case("reference-unknown-study", "GET", "/study_config?study=nosuch", REFERENCE, 404),
    Case("reference-bad-body", "POST", "/study_participants", REFERENCE, 400, content="["),
    Case("reference-wrong-method", "DELETE", "/study_config", REFERENCE, 405),
    Case(
        "status-unknown-participant",
        "GET",
        "/p/nosuch/trust/WaitForTrustor/2/status",
        JSON,
        404,
        "no participant",
    ),
    Case("status-wrong-method", "POST", "{wait_page}/status", JSON, 405),
    Case("room-status-unknown-room", "GET", "/room/nosuch/status", JSON, 404, "no room"),
    Case("chat-unknown-participant", "GET", "/p/nosuch/chat?token={token}", JSON, 400, "token"),
    Case(
        "chat-post-unknown-participant",
        "POST",
        "/p/nosuch/chat",
        JSON,
        400,
        "another participant",
        json={"token": "{token}", "body": "hi"},
    ),
    Case("chat-bad-token", "GET", "/p/{chat}/chat?token=forged", JSON, 400, field="token"),
    Case("chat-not-json", "POST", "/p/{chat}/chat", JSON, 400, "JSON object", content="hi"),
    Case("chat-json-list", "POST", "/p/{chat}/chat", JSON, 400, "JSON object", content="[]"),
    Case(
        "chat-empty-message",
        "POST",
        "/p/{chat}/chat",
        JSON,
        400,
        "empty",
        json={"token": "{token}", "body": "  "},
        field="body",
    ),
    Case(
        "chat-body-not-text",
        "POST",
        "/p/{chat}/chat",
        JSON,
        400,
        "empty",
        json={"token": "{token}", "body": 5},
        field="body",
    ),
    Case("chat-wrong-method", "PUT", "/p/{chat}/chat", JSON, 405),
]


@pytest.mark.parametrize("case", FAMILY_CASES, ids=lambda case: case.id)
def test_each_route_family_answers_errors_in_its_shape(world_client, case):
    client, world, engine = world_client
    before = snapshot(engine)
    check_answer(case, _send(client, case, world))
    assert snapshot(engine) == before


def _fetched_urls(script: str) -> list[str]:
    """The URL expression of each fetch() in a script, with a variable resolved once."""
    urls = []
    for argument in re.findall(r"fetch\(\s*([^,)]+)", script):
        assignment = re.search(rf"var {re.escape(argument.strip())} = ([^;]+);", script)
        urls.append(assignment.group(1) if assignment else argument)
    return urls


# The admin's scripts: the monitor fetches its JSON (a family, checked below); the Data tab
# re-fetches its own HTML page to replace the table.
ADMIN_FETCHES = {
    "grove-monitor.js": ['root.getAttribute("data-grove-monitor")'],
    "grove-refresh.js": ["window.location.href"],
}


def test_every_url_a_page_script_fetches_is_a_json_family(world_client):
    client, world, _engine = world_client
    scripts = {path.name: path.read_text() for path in STATIC.glob("*.js")}
    for name, urls in ADMIN_FETCHES.items():
        assert _fetched_urls(scripts.pop(name)) == urls, name
    assert json_family("/SessionMonitor/somecode/data") is not None
    fetched = [url for script in scripts.values() for url in _fetched_urls(script)]
    assert len(fetched) == 4, fetched
    # Every fetch reads its URL from the page (data-url, data-status-url), checked below.
    assert all(re.search(r"dataset\.(url|statusUrl)\b", url) for url in fetched), fetched

    pages = [
        client.get(f"/InitializeParticipant/{world.chat}").text,  # a chat box
        client.get(world.wait_page).text,
        client.post("/room/qualtrics_study/", data={"participant_label": "family"}).text,
    ]
    for html in pages:
        # The element a fetch reads (the page socket's and live socket's <script data-url>
        # are WebSocket URLs, not fetched).
        (url,) = re.findall(r'<(?!script)[^>]*\bdata-(?:status-)?url="([^"]+)"', html)
        path = url.split("?")[0]
        assert json_family(path) is not None, path
        answer = client.request("PATCH", path)  # a method no route accepts
        assert answer.status_code == 405
        assert answer.headers["content-type"].startswith("application/json"), path


def test_unstorable_character_names_what_is_wrong():
    assert unstorable_character("fine, ünïcode & emoji \U0001f600") is None
    assert unstorable_character("a\x00b") == "a NUL character"
    assert "surrogate" in str(unstorable_character("\udfff"))
    found = dict(unstorable_strings({"vars": {"a": ["ok", "b\x00"], "c\x00": 1}, "d": "\ud800"}))
    assert found == {
        "vars.a[1]": "vars.a[1] cannot contain a NUL character",
        "vars": "a key of vars cannot contain a NUL character",
        "d": "d cannot contain an unpaired surrogate (a broken \\ud800-\\udfff escape)",
    }


@pytest.mark.parametrize(
    "field", [models.StringField(), models.LongStringField(), models.StringField(blank=True)]
)
@pytest.mark.parametrize("raw", ["\x00", "a\x00", "\x00 b", "x\ud800"])
def test_text_fields_refuse_unstorable_characters(field, raw):
    with pytest.raises(FieldValueError, match="This field cannot contain"):
        field.clean(raw, field.choices, field.min, field.max)


def test_text_field_nul_message_is_the_one_shown_beside_the_field():
    field = models.LongStringField()
    with pytest.raises(FieldValueError) as refused:
        field.clean("a\x00", None, None, None)
    assert str(refused.value) == NUL_FIELD_ERROR


def test_a_choice_with_a_nul_is_not_a_choice():
    field = models.StringField(choices=["a", "b"])
    with pytest.raises(FieldValueError, match="Not a valid choice"):
        field.clean("a\x00", field.choices, None, None)


def test_chat_seat_keeps_nicknames_storable_and_refuses_channels_that_are_not():
    seat = chat_seat("code", "app-1-1", "N\x00" + "n" * 400)
    assert seat.nickname == "N\ufffd" + "n" * (MAX_NAME_LENGTH - 2)
    assert chat_seat("code", "app-1-1", "Ann").nickname == "Ann"
    for channel in ("c" * (MAX_NAME_LENGTH + 1), "a\x00"):
        with pytest.raises(ValueError, match="chat channel"):
            chat_seat("code", channel, "Ann")


CHAT_TEXT = st.text(st.characters(exclude_categories=()), max_size=30) | st.sampled_from(
    ["\x00", " \x00 ", "a" * MAX_MESSAGE_LENGTH + "\x00", "\ud83d\ude00", "\udc00"]
)


@hyp_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=CHAT_TEXT)
def test_any_chat_message_is_stored_as_sent_or_refused_with_json(world_client, text):
    client, world, _engine = world_client
    sent = client.post(
        f"/p/{world.chat}/chat",
        content=json.dumps({"token": world.token, "body": text}),
        headers={"content-type": "application/json"},
    )
    assert sent.status_code < 500, sent.text
    assert sent.headers["content-type"].startswith("application/json")
    received = json.loads(json.dumps(text))  # a surrogate pair arrives as one character
    storable = (
        unstorable_character(received) is None
        and received.strip()
        and len(received) <= MAX_MESSAGE_LENGTH
    )
    if not storable:
        assert sent.status_code == 400
        assert sent.json()["errors"][0]["field"] == "body"
        return
    assert sent.status_code == 200, sent.text
    message_id = sent.json()["id"]
    read = client.get(
        f"/p/{world.chat}/chat", params={"token": world.token, "after": message_id - 1}
    )
    assert read.json()["messages"][0]["body"] == received.strip()


@hyp_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.text(max_size=8),
    after=st.text(max_size=8),
    name=st.sampled_from(["nickname", "comments"]),
)
def test_a_typed_nul_anywhere_is_a_form_error_beside_the_field(world_client, before, after, name):
    client, world, _engine = world_client
    data = {
        "savings": "40",
        "satisfaction": "4",
        "likes_experiments": "True",
        "nickname": "Alice",
        "comments": "",
        name: before + "\x00" + after,
    }
    page = client.post(world.attitudes, data=data, follow_redirects=False)
    assert page.status_code == 200, page.text
    assert field_error(page.text, name) == NUL_FIELD_ERROR


@pytest.mark.slow
@pytest.mark.postgres
def test_unstorable_text_on_a_live_postgres_server_with_two_workers(postgres_url):
    engine = sa.create_engine(normalise_database_url(postgres_url))
    try:
        with (
            live_server(postgres_url, workers=2) as base,
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            world = build_world(client)
            before = snapshot(engine)
            failures = []
            for case in [*CASES, *FAMILY_CASES]:
                response = _send(client, case, world)
                try:
                    check_answer(case, response)
                except AssertionError as exc:
                    failures.append(f"{case.id}: {response.status_code} {exc}")
            assert not failures, "\n".join(failures)
            assert snapshot(engine) == before
            # Over-long codes the server's HTTP parser still accepts are plain 404s too.
            very_long = client.get(f"/InitializeParticipant/{LONG * 2}")
            assert very_long.status_code in (404, 414, 431), very_long.status_code
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.browser
def test_chat_in_a_browser_sends_and_keeps_a_refused_message(browser, tmp_path):
    with (
        live_server(databases.database_url(tmp_path, "chat"), workers=2) as base,
        httpx.Client(base_url=base) as client,
    ):
        code = client.post(
            "/api/sessions/", json={"session_config_name": "prisoner", "num_participants": 2}
        ).json()["code"]
        people = [p["code"] for p in client.get(f"/api/sessions/{code}").json()["participants"]]
        pages = [browser.new_page() for _ in people]
        errors: list[str] = []
        for page, person in zip(pages, people, strict=True):
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/InitializeParticipant/{person}")
            page.wait_for_selector(".grove-chat-input")
        writer, reader = pages
        writer.fill(".grove-chat-input", "hello partner")
        writer.press(".grove-chat-input", "Enter")
        reader.wait_for_selector(".grove-chat-messages >> text=hello partner", timeout=10_000)
        # A message the server refuses (a NUL cannot be stored) stays in the input, marked.
        writer.evaluate("document.querySelector('.grove-chat-input').value = 'bad \\u0000 message'")
        writer.press(".grove-chat-input", "Enter")
        writer.wait_for_selector(".grove-chat-input.is-invalid", timeout=10_000)
        assert writer.input_value(".grove-chat-input") == "bad \x00 message"
        assert "NUL" in str(writer.get_attribute(".grove-chat-input", "title"))
        assert errors == []


def test_a_query_is_refused_for_a_nul_however_sent_and_never_for_what_decodes_to_u_fffd():
    # The check skips parsing a query without %00 or a zero byte (server/http/url_text.py):
    # both still refuse; escapes of surrogates or overlong NULs decode to U+FFFD, storable.
    from server.http.url_text import unstorable_text_refusal

    for query in (b"x=%00", b"x=a\x00b", b"%00=1", b"a=1&b=%00"):
        refusal = unstorable_text_refusal("/p", query, None)
        assert refusal is not None, query
        assert refusal[0] == 400, query
    for query in (b"x=%ED%A0%80", b"x=%C0%80", b"x=%E0%80%80", b"x=%2500", b"x=\xff"):
        assert unstorable_text_refusal("/p", query, None) is None, query
