"""oTree's REST examples, as written (with SERVER_URL), and the same calls with curl, against
a live server; and a property-based fuzz of every endpoint that must never answer 5xx."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from server.app import create_app
from tests import databases
from tests.live_server import live_server
from tests.rest_helpers import REST_KEY

pytestmark = pytest.mark.slow


def test_otree_examples_as_written_against_a_live_server(tmp_path):
    database_url = databases.database_url(tmp_path, "rest")
    with live_server(
        database_url, extra_env={"OTREE_REST_KEY": REST_KEY, "OTREE_AUTH_LEVEL": "STUDY"}
    ) as SERVER_URL:
        requests = httpx  # the docs use `requests`; httpx has the same call shapes here
        REST_KEY_ = REST_KEY

        def create_session(**payload):
            resp = requests.post(
                SERVER_URL + "/api/sessions/", json=payload, headers={"otree-rest-key": REST_KEY_}
            )
            resp.raise_for_status()
            return resp

        resp = create_session(
            session_config_name="trust",
            room_name="econ101",
            num_participants=4,
            modified_session_config_fields=dict(num_apples=10, abc=[1, 2, 3]),
        )
        assert json.loads(resp.text)["code"]

        def set_participant_vars(**payload):
            resp = requests.post(
                SERVER_URL + "/api/participant_vars/",
                json=payload,
                headers={"otree-rest-key": REST_KEY_},
            )
            resp.raise_for_status()
            return resp

        set_participant_vars(
            room_name="qualtrics_study",
            participant_label="albert_e",
            vars=dict(age=25, is_male=True, x=[3, 6, 9]),
        )

        def set_session_vars(**payload):
            return requests.post(
                SERVER_URL + "/api/session_vars/",
                json=payload,
                headers={"otree-rest-key": REST_KEY_},
            )

        create_session(session_config_name="survey", room_name="my_room", num_participants=1)
        resp = set_session_vars(room_name="my_room", vars=dict(dice_roll=4))
        assert resp.status_code == 200

        unauthenticated = requests.post(
            SERVER_URL + "/api/sessions/",
            json={"session_config_name": "trust", "num_participants": 2},
        )
        assert unauthenticated.status_code == 403

        curl = shutil.which("curl")
        if curl:
            out = subprocess.run(
                [
                    curl,
                    "-s",
                    "-X",
                    "POST",
                    SERVER_URL + "/api/participant_vars/",
                    "-H",
                    f"otree-rest-key: {REST_KEY}",
                    "-d",
                    "room_name=qualtrics_study",
                    "-d",
                    "participant_label=bob",
                    "-d",
                    "vars.age=30",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            assert json.loads(out.stdout)["ok"] is True


# Any character, NUL and lone surrogates included (JSON carries them as \u escapes): none
# may reach the database, where PostgreSQL refuses NUL and no driver encodes a surrogate.
TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10_000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=8,
)
FIELDS = [
    "session_config_name",
    "num_participants",
    "room_name",
    "label",
    "vars",
    "participant_label",
    "modified_session_config_fields",
    "participant_code",
    "levels",
    "participant_labels",
    "vars.age",
    "study",
    "id",
    "sex",
]
PATHS = [
    "/api/sessions/",
    "/api/participant_vars/",
    "/api/session_vars/",
    "/api/participant_vars/abc",
    "/api/session_vars/abc",
    "/api/get_session/abc",
    "/api/sessions/abc/randomize",
    "/study_participants",
    "/study_config",
]


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    from server.config import load_settings
    from tests.conftest import REPO_ROOT

    database_url = databases.database_url(tmp_path_factory.mktemp("fuzz"), "fuzz")
    settings = load_settings(REPO_ROOT, {"DATABASE_URL": database_url})
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post(
            "/api/sessions/",
            json={
                "session_config_name": "randomized_trial",
                "num_participants": 2,
                "room_name": "my_room",
            },
        )
        yield client
    app.state.grove.db.dispose()


@hyp_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(PATHS),
    body=st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=5),
    shape=st.sampled_from(["json", "form", "query", "raw"]),
    raw=st.binary(max_size=40),
)
def test_fuzzed_requests_never_get_a_5xx(fuzz_client, path, body, shape, raw):
    if shape == "json":
        response = fuzz_client.post(
            path, content=json.dumps(body), headers={"content-type": "application/json"}
        )
    elif shape == "form":
        response = fuzz_client.post(path, data={k: json.dumps(v) for k, v in body.items()})
    elif shape == "query":
        response = fuzz_client.post(path, params={k: json.dumps(v) for k, v in body.items()})
    else:
        response = fuzz_client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, (path, body, response.text)
    assert response.headers["content-type"].startswith("application/json")
