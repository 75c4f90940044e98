"""Keys with scopes: read (GET, exports) < write (vars, creating sessions) < admin
(everything). Made with the CLI or the keys page; applied to /api/ and /admin/api/v1/ alike;
keys from before scopes, and OTREE_REST_KEY, are admin."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from starlette.testclient import TestClient

from server.__main__ import main
from server.app import create_app
from server.schema_versions import alembic_config, upgrade_to_head
from tests.admin_pages import database_snapshot, form_with_action, submit_form
from tests.conftest import REPO_ROOT
from tests.databases import engine as make_engine
from tests.rest_helpers import REST_KEY, assert_error_shape, table_counts


def cli_key(monkeypatch, capsys, settings, *arguments: str) -> str:
    """Run ``python -m server apikey ...`` on the test's database; the key it prints."""
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(REPO_ROOT))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["apikey", *arguments]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


@pytest.fixture
def keys(settings, monkeypatch, capsys) -> dict[str, str]:
    """One key per scope, made with the CLI."""
    return {
        scope: cli_key(monkeypatch, capsys, settings, "create", f"{scope}_user", "--scope", scope)
        for scope in ("read", "write", "admin")
    }


@pytest.fixture
def api(settings) -> Iterator[TestClient]:
    app = create_app(settings.with_changes(rest_key=REST_KEY))
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create_session(api: TestClient, key: str):
    return api.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 1},
        headers={"otree-rest-key": key},
    )


def test_the_cli_makes_keys_of_each_scope_and_lists_them(keys, settings, monkeypatch, capsys):
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(REPO_ROOT))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    for scope in ("read", "write", "admin"):
        assert re.search(rf"^{scope}_user\t{scope}\t", listing, re.M), listing
    assert main(["apikey", "scope", "read_user", "--scope", "write"]) == 0
    assert main(["apikey", "list"]) == 0
    assert re.search(r"^read_user\twrite\t", capsys.readouterr().out, re.M)


def test_a_key_without_a_scope_option_is_admin(settings, monkeypatch, capsys, api):
    key = cli_key(monkeypatch, capsys, settings, "create", "plain")
    assert api.delete("/admin/api/v1/nothing/", headers=bearer(key)).status_code == 404


def test_a_read_key_reads_but_cannot_write_on_the_rest_api(keys, api, settings):
    created = create_session(api, REST_KEY)
    assert created.status_code == 200, created.text
    code = created.json()["code"]
    read = {"otree-rest-key": keys["read"]}
    assert api.get("/api/sessions/", headers=read).status_code == 200
    assert api.get(f"/api/sessions/{code}", headers=read).status_code == 200
    assert api.post(f"/api/get_session/{code}", headers=read).status_code == 200
    assert api.get("/api/export/page_times", headers=read).status_code == 200
    engine = make_engine(settings.database_url)
    try:
        before = table_counts(engine)
        participant = api.get(f"/api/sessions/{code}", headers=read).json()["participants"][0]
        refused = [
            create_session(api, keys["read"]),
            api.post(
                f"/api/participant_vars/{participant['code']}",
                json={"vars": {"age": 25}},
                headers=read,
            ),
            api.post(f"/api/session_vars/{code}", json={"vars": {"x": 1}}, headers=read),
        ]
        for response in refused:
            body = assert_error_shape(response, 403)
            assert "scope is 'read'" in body["error"]
            assert "needs a 'write' key" in body["error"]
        assert table_counts(engine) == before
    finally:
        engine.dispose()


def test_a_write_key_sets_vars_and_creates_sessions(keys, api):
    created = create_session(api, keys["write"])
    assert created.status_code == 200, created.text
    code = created.json()["code"]
    answer = api.post(
        f"/api/session_vars/{code}", json={"vars": {"x": 1}}, headers=bearer(keys["write"])
    )
    assert answer.status_code == 200, answer.text


def test_scopes_on_the_admin_api_read_and_the_settings_key_is_admin(keys, api):
    for key in (*keys.values(), REST_KEY):
        assert api.get("/admin/api/v1/status/", headers=bearer(key)).status_code == 200


def test_the_keys_page_shows_and_sets_scopes(client, settings):
    created = submit_form(client, "/apikeys", "/apikeys", {"user": "carol", "scope": "read"})
    assert created.status_code == 200, created.text
    key = re.findall(r'<code class="grove-key">([\w-]+)</code>', created.text)[0]
    headers = {"otree-rest-key": key}
    listing = client.get("/apikeys").text
    assert re.search(r'<option value="read" selected>read</option>', listing)
    assert create_session(client, key).status_code == 403

    changed = submit_form(client, "/apikeys", "/apikeys/carol/scope", {"scope": "write"})
    assert changed.status_code == 303
    listing = client.get("/apikeys").text
    assert re.search(r'<option value="write" selected>write</option>', listing)
    assert create_session(client, key).status_code == 200
    assert client.get("/api/sessions/", headers=headers).status_code == 200

    engine = make_engine(settings.database_url)
    try:
        before = database_snapshot(engine)
        # What a browser cannot send (the page offers no such choice), a script can.
        token = dict(form_with_action(client.get("/apikeys").text, "/apikeys").submission())
        csrf = token["csrf_token"]
        bad = client.post("/apikeys/carol/scope", data={"csrf_token": csrf, "scope": "root"})
        assert bad.status_code == 400
        assert "scope must be one of read, write, admin" in bad.text
        bad_create = client.post("/apikeys", data={"csrf_token": csrf, "user": "dan", "scope": "x"})
        assert bad_create.status_code == 400
        nobody = client.post("/apikeys/nobody/scope", data={"csrf_token": csrf, "scope": "read"})
        assert nobody.status_code == 404
        assert database_snapshot(engine) == before
    finally:
        engine.dispose()


def test_keys_made_before_scopes_become_admin(app, settings):
    """Migration 0008 adds the scope column with 'admin' for every existing key."""
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0007")
            assert "scope" not in {
                c["name"] for c in sa.inspect(connection).get_columns("grove_api_key")
            }
            connection.execute(
                sa.text(
                    'INSERT INTO grove_api_key (id, "user", key_hash, created_at) '
                    "VALUES (1, 'old', 'h', CURRENT_TIMESTAMP)"
                )
            )
        with engine.begin() as connection:
            upgrade_to_head(connection)
        with engine.connect() as connection:
            scope = connection.execute(
                sa.text("SELECT scope FROM grove_api_key WHERE \"user\" = 'old'")
            ).scalar_one()
        assert scope == "admin"
    finally:
        engine.dispose()


def test_a_read_key_cannot_randomize_on_the_reference_urn_api(keys, api, settings):
    params = {"study": "My Study", "id": "p1", "age_group": "18-40", "sex": "Male"}
    engine = make_engine(settings.database_url)
    try:
        before = table_counts(engine)
        refused = api.post("/study_participants", params={**params, "api_key": keys["read"]})
        assert refused.status_code == 403, refused.text
        assert refused.json()["status"] == 403
        assert "'write'" in refused.json()["message"]
        assert table_counts(engine) == before
    finally:
        engine.dispose()
    allowed = api.post("/study_participants", params={**params, "api_key": keys["write"]})
    assert allowed.status_code == 200, allowed.text
    listed = api.get("/study_participants", params={"study": "My Study", "api_key": keys["read"]})
    assert listed.status_code == 200, listed.text


def test_the_keys_page_shows_when_a_key_was_last_used(client, settings):
    created = submit_form(client, "/apikeys", "/apikeys", {"user": "erin", "scope": "read"})
    key = re.findall(r'<code class="grove-key">([\w-]+)</code>', created.text)[0]
    assert re.search(r"<td>erin</td>.*?<td>never</td>", client.get("/apikeys").text, re.S)
    assert client.get("/api/sessions/", headers={"otree-rest-key": key}).status_code == 200
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            first = connection.execute(
                sa.text("SELECT last_used_at FROM grove_api_key")
            ).scalar_one()
        assert first is not None
        assert client.get("/api/sessions/", headers={"otree-rest-key": key}).status_code == 200
        with engine.connect() as connection:
            again = connection.execute(
                sa.text("SELECT last_used_at FROM grove_api_key")
            ).scalar_one()
        assert again == first  # noted at most once a minute
    finally:
        engine.dispose()
    assert not re.search(r"<td>erin</td>.*?<td>never</td>", client.get("/apikeys").text, re.S)
