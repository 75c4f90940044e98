"""``curl -d '{"config": "trust"}'`` without ``-H 'Content-Type: application/json'`` sends a
JSON body labelled as a form (curl's default type). oTree reads any body as JSON, so the curl
lines its users (and uproot's) write work against Grove too; a real form body still reads as
a form, and a JSON body that is broken is a 400 saying so, not an 'unknown parameter' named
after the whole body."""

from __future__ import annotations

from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1
from tests.rest_helpers import HEADERS, assert_error_shape

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_a_json_body_labelled_as_a_form_creates_a_session(api):
    body = '{"config": "trust", "n_players": 2, "sname": "curl1", "settings": {"num_apples": 3}}'
    created = api.post(f"{V1}/sessions/", content=body, headers={**ADMIN, **FORM})
    assert created.status_code == 200, created.text
    assert created.json()["sname"] == "curl1"
    detail = api.get(f"{V1}/session/curl1/", headers=ADMIN).json()
    assert detail["settings"]["num_apples"] == 3
    # With a decimal point in a value (a form would read the dot as a nested name).
    fee = '{"settings": {"participation_fee": 0.5}}'
    changed = api.patch(f"{V1}/session/curl1/settings/", content=fee, headers={**ADMIN, **FORM})
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"]["participation_fee"] == 0.5


def test_otrees_rest_api_reads_it_too(api):
    body = '{"session_config_name": "trust", "num_participants": 2}'
    created = api.post("/api/sessions/", content=body, headers={**HEADERS, **FORM})
    assert created.status_code == 200, created.text
    assert "code" in created.json()


def test_a_real_form_body_is_still_a_form(api):
    created = api.post(f"{V1}/sessions/", data={"config": "trust", "n_players": "2"}, headers=ADMIN)
    assert created.status_code == 200, created.text


def test_broken_json_labelled_as_a_form_is_a_400_about_json(api):
    error = assert_error_shape(
        api.post(f"{V1}/sessions/", content='{"config": "trust",', headers={**ADMIN, **FORM}), 400
    )
    assert "JSON" in error["error"]


PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}


def test_a_json_body_labelled_as_plain_text_is_read_as_json(api):
    # fetch(url, {method: "POST", body: JSON.stringify(...)}) without a Content-Type, .NET's
    # StringContent and Qualtrics' "Plain Text" body send JSON as text/plain; oTree reads it.
    body = '{"session_config_name": "trust", "num_participants": 2}'
    created = api.post("/api/sessions/", content=body, headers={**HEADERS, **PLAIN})
    assert created.status_code == 200, created.text
    code = created.json()["code"]
    participant = api.get(f"/api/sessions/{code}", headers=HEADERS).json()["participants"][0]
    posted = api.post(
        f"/api/participant_vars/{participant['code']}",
        content='{"vars": {"age": 25, "ok": true}}',
        headers={**HEADERS, **PLAIN},
    )
    assert posted.status_code == 200, posted.text
    [stored] = [
        p
        for p in api.get(f"/api/sessions/{code}", headers=HEADERS).json()["participants"]
        if p["code"] == participant["code"]
    ]
    assert stored["vars"] == {"age": 25, "ok": True}
    # Plain text that is no JSON object is still refused, saying what to send.
    refused = assert_error_shape(
        api.post("/api/sessions/", content="trust 2", headers={**HEADERS, **PLAIN}), 415
    )
    assert "application/json" in refused["error"]
