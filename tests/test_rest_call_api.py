"""Every example of oTree's current REST page (misc_rest_api.rst), through the page's own
``call_api`` helper, against Grove in process and a live server.

``call_api`` sends its parameters as a JSON body on every method, GET included, and always to
a path with a trailing slash. The expected values are oTree 6.0.15's answers, measured:
``/api/otree_version/`` is ``{"version": "6.0.15"}``; ``/api/session_configs/`` lists each config
merged with SESSION_CONFIG_DEFAULTS, ``display_name`` defaulting to ``name``; ``/api/rooms/``
gives each room's ``name``, ``url`` and ``session_code`` (``None`` while it has no session);
``participant_labels`` in a GET's body filters the participants, and each requested var that
is set becomes a key of the participant.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests import databases
from tests.live_server import live_server
from tests.rest_helpers import REST_KEY, assert_error_shape

Method = Callable[..., httpx.Response]


def make_call_api(SERVER_URL: str, REST_KEY: str, send: Callable[..., httpx.Response]):
    """oTree's helper as its REST page writes it; ``requests.get/post`` become ``send``."""
    GET: Method = functools.partial(send, "GET")
    POST: Method = functools.partial(send, "POST")

    def call_api(method, *path_parts, **params) -> dict:
        path_parts = "/".join(path_parts)
        url = f"{SERVER_URL}/api/{path_parts}/"
        resp = method(url, json=params, headers={"otree-rest-key": REST_KEY})
        if not resp.is_success:
            msg = f'Request to "{url}" failed with status code {resp.status_code}: {resp.text}'
            raise Exception(msg)
        return resp.json()

    return call_api, GET, POST


def run_the_documented_examples(
    SERVER_URL: str,
    call_api: Callable[..., Any],
    GET: Method,
    POST: Method,
    arrive: Callable[[str, str], None],
) -> None:
    """The page's examples in its order, each checked against oTree 6.0.15's answer."""
    data = call_api(GET, "otree_version")
    assert data["version"] == "6.0.15"

    data = call_api(GET, "session_configs")
    trust = next(config for config in data if config["name"] == "trust")
    for key in ("display_name", "app_sequence", "num_demo_participants", "doc"):
        assert key in trust
    assert trust["real_world_currency_per_point"] == 1.0  # from SESSION_CONFIG_DEFAULTS
    assert trust["participation_fee"] == 0.0

    data = call_api(GET, "rooms")
    rooms = {room["name"]: room for room in data}
    assert rooms["econ101"]["session_code"] is None
    assert rooms["econ101"]["url"].endswith("/room/econ101/")

    data = call_api(
        POST,
        "sessions",
        session_config_name="trust",
        room_name="econ101",
        num_participants=4,
        modified_session_config_fields=dict(num_apples=10, abc=[1, 2, 3]),
    )
    created = data["code"]
    assert data["room_url"].endswith("/room/econ101/")

    # "If the session is in a room, you can get the session code with the rooms endpoint."
    rooms = {room["name"]: room for room in call_api(GET, "rooms")}
    code = rooms["econ101"]["session_code"]
    assert code == created
    assert rooms["my_room"]["session_code"] is None

    arrive("econ101", "alice")
    arrive("econ101", "bob")
    data = call_api(GET, "sessions", code, participant_labels=["alice"])
    assert [p["label"] for p in data["participants"]] == ["alice"]
    assert data["code"] == code
    assert data["config"]["num_apples"] == 10
    everyone = call_api(GET, "sessions", code)
    assert len(everyone["participants"]) == 4

    call_api(POST, "session_vars", code, vars=dict(dice_roll=4))
    alice = data["participants"][0]["code"]
    call_api(POST, "participant_vars", alice, vars=dict(birth_year="1995", gender="F"))
    data = call_api(
        GET,
        "sessions",
        code,
        participant_labels=["alice"],
        participant_vars=["gender", "not_set"],
        session_vars=["dice_roll"],
    )
    participant = data["participants"][0]
    assert participant["gender"] == "F"
    assert "not_set" not in participant
    assert data["dice_roll"] == 4

    call_api(
        POST,
        "participant_vars",
        room_name="qualtrics_study",
        participant_label="albert_e",
        vars=dict(age=25, is_male=True, x=[3, 6, 9]),
    )

    # The one JSON error shape, for a GET's unknown body parameter and an unknown session.
    unknown = GET(
        f"{SERVER_URL}/api/rooms/", json={"colour": "red"}, headers={"otree-rest-key": REST_KEY}
    )
    assert assert_error_shape(unknown, 400)["errors"][0]["field"] == "colour"
    with pytest.raises(Exception, match="status code 404"):
        call_api(GET, "sessions", "nosuchcode", participant_labels=["alice"])


def test_documented_examples_in_process(settings):
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    try:
        with TestClient(app) as client:
            call_api, GET, POST = make_call_api("http://testserver", REST_KEY, client.request)

            def arrive(room: str, label: str) -> None:
                client.cookies.clear()  # each arrival is a browser of its own
                joined = client.post(
                    f"/room/{room}/", data={"participant_label": label}, follow_redirects=False
                )
                assert joined.status_code == 303, joined.text

            run_the_documented_examples("http://testserver", call_api, GET, POST, arrive)
    finally:
        app.state.grove.db.dispose()


@pytest.mark.slow
def test_documented_examples_against_a_live_server(tmp_path):
    database_url = databases.database_url(tmp_path, "call_api")
    environment = {"OTREE_REST_KEY": REST_KEY, "OTREE_AUTH_LEVEL": "STUDY"}
    with live_server(database_url, extra_env=environment) as SERVER_URL:
        call_api, GET, POST = make_call_api(SERVER_URL, REST_KEY, httpx.request)

        def arrive(room: str, label: str) -> None:
            with httpx.Client(base_url=SERVER_URL) as browser:
                joined = browser.post(f"/room/{room}/", data={"participant_label": label})
                assert joined.status_code == 303, joined.text

        run_the_documented_examples(SERVER_URL, call_api, GET, POST, arrive)


def test_openapi_describes_what_the_examples_read(client):
    spec = client.get("/api/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["Room"]["required"] == ["name", "session_code", "url"]
    assert {"type": "null"} in schemas["Room"]["properties"]["session_code"]["anyOf"]
    assert schemas["Version"]["required"] == ["version"]
    for path in ("/api/sessions/", "/api/sessions/{code}", "/api/rooms", "/api/otree_version"):
        get = spec["paths"][path]["get"]
        assert "JSON body" in get["description"]
        assert get["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
