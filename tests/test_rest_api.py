"""The REST API: oTree's documented examples, Qualtrics shapes, keys, and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from tests.conftest import REPO_ROOT, create_demo_session
from tests.rest_helpers import HEADERS, REST_KEY, assert_error_shape, table_counts


@pytest.fixture
def api(settings):
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    with TestClient(app) as client:
        client.headers.update(HEADERS)
        yield client
    app.state.grove.db.dispose()


def create(api, **payload):
    return api.post("/api/sessions/", json=payload)


def test_otree_doc_create_session_example(api):
    resp = create(
        api,
        session_config_name="trust",
        room_name="econ101",
        num_participants=4,
        modified_session_config_fields=dict(num_apples=10, abc=[1, 2, 3]),
    )
    resp.raise_for_status()
    body = resp.json()
    assert set(body) == {"code", "session_wide_url", "admin_url", "room_url"}
    assert body["session_wide_url"].startswith("http://testserver/join/")
    assert body["room_url"] == "http://testserver/room/econ101/"
    detail = api.get(f"/api/sessions/{body['code']}").json()
    assert detail["config"]["num_apples"] == 10
    assert detail["config"]["abc"] == [1, 2, 3]
    assert len(detail["participants"]) == 4
    assert detail["room_name"] == "econ101"


def test_a_session_in_a_room_lists_its_room_url_as_otree_does(api):
    """oTree 6.0.15 adds room_url (and only for a session in a room) to every session in
    GET /api/sessions/ and to the session in GET /api/sessions/<code> and POST
    /api/get_session/<code>, as in the answer that created it."""
    in_room = create(
        api, session_config_name="survey", room_name="qualtrics_study", num_participants=1
    ).json()
    alone = create(api, session_config_name="survey", num_participants=1).json()
    listed = {s["code"]: s for s in api.get("/api/sessions/").json()}
    assert listed[in_room["code"]]["room_url"] == in_room["room_url"]
    assert in_room["room_url"] == "http://testserver/room/qualtrics_study/"
    assert "room_url" not in listed[alone["code"]]
    for detail in (
        api.get(f"/api/sessions/{in_room['code']}").json(),
        api.post(f"/api/get_session/{in_room['code']}").json(),
    ):
        assert detail["room_url"] == in_room["room_url"]
    assert "room_url" not in api.get(f"/api/sessions/{alone['code']}").json()


def test_otree_doc_participant_vars_example(api):
    resp = api.post(
        "/api/participant_vars/",
        json=dict(
            room_name="qualtrics_study",
            participant_label="albert_e",
            vars=dict(age=25, is_male=True, x=[3, 6, 9]),
        ),
    )
    resp.raise_for_status()
    assert resp.json()["pending"] is True  # kept until albert_e arrives in the room


def test_otree_doc_session_vars_example(api):
    create(api, session_config_name="survey", room_name="my_room", num_participants=1)
    resp = api.post("/api/session_vars/", json=dict(room_name="my_room", vars=dict(dice_roll=4)))
    resp.raise_for_status()
    code = resp.json()["code"]
    assert api.get(f"/api/sessions/{code}").json()["vars"] == {"dice_roll": 4}


def test_paths_work_with_and_without_slash(api):
    for path in (
        "/api/sessions",
        "/api/sessions/",
        "/api/otree_version",
        "/api/otree_version/",
        "/api/rooms",
        "/api/session_configs/",
    ):
        response = api.get(path, follow_redirects=False)
        assert response.status_code == 200, path


def test_list_sessions_newest_last(api):
    first = create(api, session_config_name="survey", num_participants=1).json()["code"]
    second = create(api, session_config_name="trust", num_participants=None).json()["code"]
    listing = api.get("/api/sessions/").json()
    assert [s["code"] for s in listing] == [first, second]
    assert listing[1]["num_participants"] == 2  # null means the smallest valid number
    assert set(listing[0]) >= {
        "code",
        "config_name",
        "num_participants",
        "label",
        "created_at",
        "session_wide_url",
        "admin_url",
        "room_name",
    }


@pytest.mark.parametrize("where", ["form", "query"])
def test_percent_escapes_that_are_not_utf8_are_refused_not_stored_as_replacement(api, where):
    """A web service that sends a form (or query string) in Latin-1 (``caf%E9``) got a 200 and
    ``"caf\ufffd"`` stored; it is a 400, as a JSON body that is not UTF-8 is, and nothing is
    written. UTF-8 escapes (``caf%C3%A9``) are stored as what they spell."""
    code = create(api, session_config_name="survey", num_participants=1).json()["code"]
    participant = api.get(f"/api/sessions/{code}").json()["participants"][0]["code"]

    def post(escaped: str):
        if where == "form":
            return api.post(
                f"/api/participant_vars/{participant}",
                content=f"vars.city={escaped}",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        return api.post(f"/api/participant_vars/{participant}?vars.city={escaped}")

    refused = assert_error_shape(post("caf%E9"), 400)
    assert "UTF-8" in refused["error"]
    assert api.get(f"/api/sessions/{code}").json()["participants"][0]["vars"] == {}
    post("caf%C3%A9").raise_for_status()
    assert api.get(f"/api/sessions/{code}").json()["participants"][0]["vars"] == {"city": "café"}


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"json": {"room_name": "qualtrics_study", "participant_label": "q1", "vars.age": "25"}},
        {"data": {"room_name": "qualtrics_study", "participant_label": "q1", "vars.age": "25"}},
        {"params": {"room_name": "qualtrics_study", "participant_label": "q1", "vars.age": "25"}},
    ],
    ids=["json-dotted", "form", "query"],
)
def test_qualtrics_shapes_for_participant_vars(api, kwargs):
    create(api, session_config_name="survey", room_name="qualtrics_study", num_participants=1)
    api.post("/api/participant_vars/", **kwargs).raise_for_status()
    # The vars wait for q1; a participant labelled q1 arriving in the room gets them.
    from server.participant_vars import apply_pending_vars
    from server.sessions import list_sessions

    grove = api.app.state.grove
    with grove.db.transaction() as db:
        participant = list_sessions(db)[-1].get_participants()[0]
        apply_pending_vars(db, participant, "qualtrics_study", "q1")
        assert participant.vars == {"age": "25"}
        assert participant.label == "q1"


@pytest.mark.parametrize("shape", ["json", "form", "query"])
def test_qualtrics_shapes_for_session_vars(api, shape):
    code = create(
        api, session_config_name="survey", room_name="my_room", num_participants=1
    ).json()["code"]
    params = {"room_name": "my_room", "vars.dice_roll": "4"}
    kwargs = (
        {"json": params}
        if shape == "json"
        else {"data": params}
        if shape == "form"
        else {"params": params}
    )
    api.post("/api/session_vars", **kwargs).raise_for_status()
    assert api.get(f"/api/sessions/{code}").json()["vars"] == {"dice_roll": "4"}


def test_vars_by_code(api):
    code = create(api, session_config_name="survey", num_participants=1).json()["code"]
    participant = api.get(f"/api/sessions/{code}").json()["participants"][0]["code"]
    api.post(f"/api/participant_vars/{participant}", json={"vars": {"a": 1}}).raise_for_status()
    api.post(f"/api/session_vars/{code}", json={"vars": {"b": 2}}).raise_for_status()
    detail = api.post(f"/api/get_session/{code}", json={"participant_vars": ["a"]}).json()
    assert detail["participants"][0]["vars"] == {"a": 1}
    assert detail["vars"] == {"b": 2}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (1, True),
        (0, False),
        (1, 1.0),
        (True, 1),
        (0.0, -0.0),
        ("1", 1),
        ([1], [True]),
        ({"b": 1}, {"b": 1.0}),
    ],
)
def test_vars_by_code_keep_the_type_posted(api, old, new):
    """A value equal to the stored one in Python but not in JSON (True and 1, 0.0 and -0.0,
    inside a list or an object too) replaces it, as oTree's ``participant.vars.update``
    does."""
    code = create(api, session_config_name="survey", num_participants=1).json()["code"]
    participant = api.get(f"/api/sessions/{code}").json()["participants"][0]["code"]
    for value in (old, new):
        posted = api.post(f"/api/participant_vars/{participant}", json={"vars": {"a": value}})
        posted.raise_for_status()
    detail = api.post(f"/api/get_session/{code}", json={"participant_vars": ["a"]}).json()
    stored = detail["participants"][0]["vars"]["a"]
    assert (json.dumps(stored), type(stored)) == (json.dumps(new), type(new))


def test_participant_filters(api):
    code = create(api, session_config_name="survey", num_participants=2).json()["code"]
    detail = api.get(f"/api/sessions/{code}", params={"participant_labels": "nobody"}).json()
    assert detail["participants"] == []


BAD_REQUESTS = [
    # (name, method, path, kwargs, status)
    (
        "unknown config",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "nope", "num_participants": 1}},
        404,
    ),
    (
        "unknown room",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "survey", "num_participants": 1, "room_name": "nope"}},
        404,
    ),
    ("missing config", "post", "/api/sessions/", {"json": {"num_participants": 1}}, 400),
    ("missing num", "post", "/api/sessions/", {"json": {"session_config_name": "survey"}}, 400),
    (
        "unknown field",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "survey", "num_participants": 1, "colour": "red"}},
        400,
    ),
    (
        "num zero",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "survey", "num_participants": 0}},
        400,
    ),
    (
        "num negative",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "survey", "num_participants": -2}},
        400,
    ),
    (
        "num float",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "survey", "num_participants": 1.5}},
        400,
    ),
    (
        "num string",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "survey", "num_participants": "many"}},
        400,
    ),
    (
        "num bool",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "survey", "num_participants": True}},
        400,
    ),
    (
        "num not multiple",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": "trust", "num_participants": 3}},
        400,
    ),
    (
        "modified not dict",
        "post",
        "/api/sessions/",
        {
            "json": {
                "session_config_name": "trust",
                "num_participants": 2,
                "modified_session_config_fields": [1],
            }
        },
        400,
    ),
    (
        "modified non-editable",
        "post",
        "/api/sessions/",
        {
            "json": {
                "session_config_name": "trust",
                "num_participants": 2,
                "modified_session_config_fields": {"app_sequence": ["survey"]},
            }
        },
        400,
    ),
    (
        "modified of the wrong kind",
        "post",
        "/api/sessions/",
        {
            "json": {
                "session_config_name": "trust",
                "num_participants": 2,
                "modified_session_config_fields": {"num_apples": "many"},
            }
        },
        400,
    ),
    (
        "config name not string",
        "post",
        "/api/sessions/",
        {"json": {"session_config_name": 5, "num_participants": 1}},
        400,
    ),
    ("unknown session", "get", "/api/sessions/nosuchcode", {}, 404),
    ("unknown session post", "post", "/api/get_session/nosuchcode", {"json": {}}, 404),
    (
        "pvars unknown room",
        "post",
        "/api/participant_vars/",
        {"json": {"room_name": "nope", "participant_label": "a", "vars": {}}},
        404,
    ),
    (
        "pvars vars not dict",
        "post",
        "/api/participant_vars/",
        {"json": {"room_name": "qualtrics_study", "participant_label": "a", "vars": [1]}},
        400,
    ),
    (
        "pvars vars string",
        "post",
        "/api/participant_vars/",
        {"json": {"room_name": "qualtrics_study", "participant_label": "a", "vars": "x"}},
        400,
    ),
    (
        "pvars missing label",
        "post",
        "/api/participant_vars/",
        {"json": {"room_name": "qualtrics_study", "vars": {}}},
        400,
    ),
    (
        "pvars unknown participant",
        "post",
        "/api/participant_vars/nosuchcode",
        {"json": {"vars": {}}},
        404,
    ),
    (
        "pvars by code vars not dict",
        "post",
        "/api/participant_vars/nosuchcode",
        {"json": {"vars": 3}},
        400,
    ),
    (
        "svars unknown room",
        "post",
        "/api/session_vars/",
        {"json": {"room_name": "nope", "vars": {}}},
        404,
    ),
    (
        "svars room without session",
        "post",
        "/api/session_vars/",
        {"json": {"room_name": "live_demo", "vars": {}}},
        404,
    ),
    (
        "svars vars not dict",
        "post",
        "/api/session_vars/",
        {"json": {"room_name": "my_room", "vars": None}},
        400,
    ),
    ("svars unknown session", "post", "/api/session_vars/nosuchcode", {"json": {"vars": {}}}, 404),
    (
        "not json",
        "post",
        "/api/sessions/",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        400,
    ),
    (
        "not utf8",
        "post",
        "/api/sessions/",
        {"content": b'{"a": "\xff"}', "headers": {"content-type": "application/json"}},
        400,
    ),
    ("json array", "post", "/api/sessions/", {"json": [1, 2]}, 400),
    ("json string", "post", "/api/sessions/", {"json": "trust"}, 400),
    (
        "too large",
        "post",
        "/api/participant_vars/",
        {
            "content": b'{"x": "' + b"a" * (1024 * 1024 + 10) + b'"}',
            "headers": {"content-type": "application/json"},
        },
        413,
    ),
    (
        "wrong type",
        "post",
        "/api/sessions/",
        {"content": b"<xml/>", "headers": {"content-type": "application/xml"}},
        415,
    ),
    ("method", "delete", "/api/sessions/", {}, 405),
    ("method put vars", "put", "/api/participant_vars/", {}, 405),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "kwargs", "status"),
    BAD_REQUESTS,
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(api, name, method, path, kwargs, status):
    engine = api.app.state.grove.db.engine
    before = table_counts(engine)
    response = getattr(api, method)(path, **kwargs)
    body = assert_error_shape(response, status)
    assert "Traceback" not in body["error"]
    assert table_counts(engine) == before


def test_errors_name_the_field(api):
    body = create(api, session_config_name="survey", num_participants=0).json()
    assert "num_participants" in body["error"]
    assert body["errors"][0]["field"] == "num_participants"
    body = create(api, session_config_name="survey").json()
    assert "num_participants" in body["error"]


@pytest.mark.parametrize("headers", [{}, {"otree-rest-key": "wrong"}])
def test_rest_key_required_when_set(settings, headers):
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    with TestClient(app) as client:
        engine = app.state.grove.db.engine
        before = table_counts(engine)
        response = client.post(
            "/api/sessions/",
            headers=headers,
            json={"session_config_name": "survey", "num_participants": 1},
        )
        body = assert_error_shape(response, 403)
        assert ("Missing" in body["error"]) == (not headers)
        assert table_counts(engine) == before
    app.state.grove.db.dispose()


def test_auth_level_without_key_closes_api(settings):
    app = create_app(settings.with_changes(auth_level="STUDY"))
    with TestClient(app) as client:
        assert client.get("/api/sessions/").status_code == 403
    app.state.grove.db.dispose()


def test_open_api_without_any_key(client):
    assert client.get("/api/sessions/").status_code == 200


@pytest.mark.slow  # a subprocess per case, or many draws: seconds each
def test_per_user_keys_in_every_place(settings, tmp_path):
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"}
    created = subprocess.run(
        [sys.executable, "-m", "server", "apikey", "create", "alice"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    listed = subprocess.run(
        [sys.executable, "-m", "server", "apikey", "list"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "alice" in listed.stdout
    assert key not in listed.stdout
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/api/sessions/").status_code == 403  # a key exists: API closed
        assert client.get("/api/sessions/", headers={"otree-rest-key": key}).status_code == 200
        bearer = {"Authorization": f"Bearer {key}"}
        created_session = client.post(
            "/api/sessions/",
            headers=bearer,
            json={"session_config_name": "survey", "num_participants": 1},
        )
        assert created_session.status_code == 200
        assert client.get("/api/rooms", params={"api_key": key}).status_code == 200
        from server.sessions import get_session

        with app.state.grove.db.read() as db:
            assert get_session(db, created_session.json()["code"]).created_by == "alice"
    app.state.grove.db.dispose()
    regenerated = subprocess.run(
        [sys.executable, "-m", "server", "apikey", "regenerate", "alice"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    new_key = regenerated.stdout.strip().splitlines()[-1]
    assert new_key != key
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/api/rooms", headers={"otree-rest-key": key}).status_code == 403
        assert client.get("/api/rooms", headers={"otree-rest-key": new_key}).status_code == 200
    app.state.grove.db.dispose()
    revoked = subprocess.run(
        [sys.executable, "-m", "server", "apikey", "revoke", "alice"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert revoked.returncode == 0


def test_openapi_document_and_page(api):
    spec = api.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/sessions/",
        "/api/participant_vars/",
        "/api/session_vars/",
        "/study_participants",
    ):
        assert path in spec["paths"]
    page = api.get("/api/docs")
    assert page.status_code == 200
    assert "POST /api/sessions/" in page.text


def test_open_api_is_logged_at_start(settings, caplog):
    with caplog.at_level("WARNING", logger="grove"):
        app = create_app(settings)
    app.state.grove.db.dispose()
    assert "The REST API is open" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="grove"):
        app = create_app(settings.with_changes(rest_key=REST_KEY))
    app.state.grove.db.dispose()
    assert "The REST API is open" not in caplog.text


def test_a_start_that_would_not_log_the_open_api_does_not_look_for_keys(settings, caplog):
    """A bot run (``python -m server test``) logs only errors: the check's query and import
    are start-up time it does not spend (bench/README.md, the bots' start-up)."""
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", note)
    try:
        for level in ("ERROR", "WARNING"):
            with caplog.at_level(level, logger="grove"):
                app = create_app(settings)
            app.state.grove.db.dispose()
            looked = [s for s in statements if "grove_api_key" in s and s.startswith("SELECT")]
            assert bool(looked) is (level == "WARNING"), (level, looked)
            statements.clear()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", note)


@pytest.mark.parametrize(
    ("label", "message"),
    [("x" * 256, "at most 255 characters"), ("a\x00b", "NUL"), (7, "must be a string")],
)
def test_session_label_that_no_database_holds_is_a_400(client, label, message):
    """PostgreSQL refused these with a server error (the label column is 255 characters)."""
    before = client.get("/api/sessions/").json()
    response = client.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 1, "label": label},
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert client.get("/api/sessions/").json() == before


def test_session_label_of_255_characters_is_stored(client):
    response = client.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 1, "label": "x" * 255},
    )
    assert response.status_code == 200
    assert client.get("/api/sessions/").json()[-1]["label"] == "x" * 255


def test_a_sessions_created_at_and_missing_label_read_as_otrees(api):
    # oTree 6.0.15's /api/sessions and /api/sessions/<code>: created_at is session._created,
    # epoch seconds from time.time() (1796215758.0161593), and a session created without a
    # label has label "" (scripts written for oTree do arithmetic and string tests on them).
    before = time.time()
    code = create(api, session_config_name="survey", num_participants=1).json()["code"]
    after = time.time()
    listed = next(s for s in api.get("/api/sessions/").json() if s["code"] == code)
    detail = api.get(f"/api/sessions/{code}").json()
    for shown in (listed, detail):
        assert isinstance(shown["created_at"], float)
        assert before - 1 <= shown["created_at"] <= after + 1
        assert shown["label"] == ""
    labelled = create(api, session_config_name="survey", num_participants=1, label="pilot")
    assert api.get(f"/api/sessions/{labelled.json()['code']}").json()["label"] == "pilot"


def test_the_session_list_leaves_out_demo_sessions(api):
    # oTree 6.0.15's GET /api/sessions lists the sessions with is_demo False (views/rest.py:
    # filter_by(is_demo=False)): those made from /demo are left out; each is still readable
    # by its code.
    demo_code, _links = create_demo_session(api, "survey")
    study = create(api, session_config_name="survey", num_participants=1).json()["code"]
    listed = [s["code"] for s in api.get("/api/sessions/").json()]
    assert study in listed
    assert demo_code not in listed
    assert api.get(f"/api/sessions/{demo_code}").json()["code"] == demo_code


def test_apps_lists_each_app_with_its_doc(api):
    """oTree 6.0.15's ``GET /api/apps``: each app of the session configs, with its module's
    ``doc`` ("" for an app without one); a script written for oTree gets a 404 without it."""
    for path in ("/api/apps", "/api/apps/"):
        response = api.get(path, follow_redirects=False)
        assert response.status_code == 200, path
        listing = response.json()
        assert set(listing) == {
            "survey",
            "payment_info",
            "public_goods",
            "trust",
            "prisoner",
            "live_auction",
            "live_counting",
            "trial",
        }
        assert listing["public_goods"] == (
            "\nPublic goods game, groups of 3, one round, with a time limit on the decision.\n"
        )
        assert all(isinstance(doc, str) for doc in listing.values())
