"""One rule for participant labels everywhere: surrounding whitespace is not part of a label.

Qualtrics' web service (or a pasted link) brings "alice " or "alice\\t"; the room link brings
"alice". Vars posted for one spelling reach the participant who arrives with the other,
whichever comes first, and the REST filters, label files and signed links follow the same rule.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.errors import ConfigurationError
from server.rooms import label_signature, load_rooms
from tests.rest_helpers import assert_error_shape

ROOM = "qualtrics_study"

SPELLINGS = [
    # (label the vars are posted for, label the participant arrives with)
    ("alice ", "alice"),
    ("alice\t", "alice"),
    (" alice\r\n", "alice"),
    ("alice", "alice "),
    ("alice", "alice\t"),
    ("alice ", "\talice"),
]


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _create(client: TestClient, room: str = ROOM, n: int = 2) -> str:
    created = client.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": n, "room_name": room},
    )
    assert created.status_code == 200, created.text
    return created.json()["code"]


def _arrive(client: TestClient, label: str, room: str = ROOM, **extra: str):
    """Open the room link as a browser would, then click Start (the form posts the label)."""
    query = {"participant_label": label, **extra}
    page = client.get(f"/room/{room}/", params=query)
    assert page.status_code == 200, page.text
    arrived = client.post(f"/room/{room}/", data=query, follow_redirects=False)
    assert arrived.status_code == 303, arrived.text
    return arrived


def _post_vars(client: TestClient, label: str, **values) -> dict:
    response = client.post(
        "/api/participant_vars/",
        json={"room_name": ROOM, "participant_label": label, "vars": values},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _participants(client: TestClient, code: str) -> list[dict]:
    return client.get(f"/api/sessions/{code}").json()["participants"]


@pytest.mark.parametrize(("posted", "arriving"), SPELLINGS, ids=repr)
def test_vars_posted_before_arrival_reach_the_participant(client, posted, arriving):
    code = _create(client)
    assert _post_vars(client, posted, age="25")["pending"] is True
    _arrive(client, arriving)
    labelled = [p for p in _participants(client, code) if p["label"] is not None]
    assert [(p["label"], p["vars"]) for p in labelled] == [("alice", {"age": "25"})]


@pytest.mark.parametrize(("posted", "arriving"), SPELLINGS, ids=repr)
def test_vars_posted_after_arrival_reach_the_participant(client, posted, arriving):
    code = _create(client)
    _arrive(client, arriving)
    assert _post_vars(client, posted, age="25")["applied"] is True
    labelled = [p for p in _participants(client, code) if p["label"] is not None]
    assert [(p["label"], p["vars"]) for p in labelled] == [("alice", {"age": "25"})]


def test_vars_posted_before_the_session_exists(client):
    _post_vars(client, "alice\t", age="25")
    code = _create(client)
    _arrive(client, "alice ")
    labelled = [p for p in _participants(client, code) if p["label"] is not None]
    assert [(p["label"], p["vars"]) for p in labelled] == [("alice", {"age": "25"})]


def test_qualtrics_form_body_with_a_trailing_space(client):
    code = _create(client)
    client.post(
        "/api/participant_vars/",
        data={"room_name": ROOM, "participant_label": "alice ", "vars.age": "25"},
    ).raise_for_status()
    _arrive(client, "alice")
    labelled = [p for p in _participants(client, code) if p["label"] is not None]
    assert labelled[0]["vars"] == {"age": "25"}


def test_both_spellings_are_the_same_participant(client):
    code = _create(client)
    first = _arrive(client, "alice ").headers["location"]
    second = _arrive(client, "alice").headers["location"]
    assert first == second
    assert [p["label"] for p in _participants(client, code)].count("alice") == 1


def test_status_poll_and_filters_use_the_rule(client):
    assert client.post(f"/room/{ROOM}/", data={"participant_label": "alice"}).status_code == 200
    status = client.get(f"/room/{ROOM}/status", params={"participant_label": "alice\t"})
    assert status.json() == {"ready": False, "waiting": 1}
    code = _create(client)
    _arrive(client, "alice")
    detail = client.get(f"/api/sessions/{code}", params={"participant_labels": "alice "}).json()
    assert [p["label"] for p in detail["participants"]] == ["alice"]
    detail = client.post(
        f"/api/get_session/{code}", json={"participant_labels": ["alice\t"]}
    ).json()
    assert [p["label"] for p in detail["participants"]] == ["alice"]


@pytest.mark.parametrize("label", [" ", "\t", "\r\n"])
def test_a_label_of_only_whitespace_is_refused(client, label):
    response = client.post(
        "/api/participant_vars/",
        json={"room_name": ROOM, "participant_label": label, "vars": {"a": 1}},
    )
    body = assert_error_shape(response, 400)
    assert body["errors"][0]["field"] == "participant_label"


def test_a_room_with_a_label_file_takes_the_label_with_whitespace(client):
    # rooms/econ101.txt lists alice, bob, carol.
    _create(client, room="econ101")
    _arrive(client, "bob\t", room="econ101")


def test_label_file_lines_follow_the_rule(settings, tmp_path):
    (tmp_path / "rooms").mkdir()
    (tmp_path / "rooms" / "labels.txt").write_text("  alice\t\r\n\nbob \n \n", encoding="utf-8")
    project = settings.with_changes(
        root=tmp_path,
        rooms=({"name": "lab", "participant_label_file": "rooms/labels.txt"},),
    )
    assert load_rooms(project)["lab"].labels == frozenset({"alice", "bob"})


def test_a_label_file_line_no_database_stores_is_named(settings, tmp_path):
    (tmp_path / "rooms").mkdir()
    (tmp_path / "rooms" / "labels.txt").write_text("alice\n" + "x" * 201 + "\n", encoding="utf-8")
    project = settings.with_changes(
        root=tmp_path,
        rooms=({"name": "lab", "participant_label_file": "rooms/labels.txt"},),
    )
    with pytest.raises(ConfigurationError, match=r"rooms/labels.txt, line 2: .*at most 200"):
        load_rooms(project)


def test_signed_link_of_a_label_with_whitespace(settings):
    secure = settings.with_changes(
        rooms=(
            {
                "name": "secure",
                "participant_label_file": "rooms/econ101.txt",
                "use_secure_urls": True,
            },
        )
    )
    app = create_app(secure)
    try:
        with TestClient(app) as client:
            _create(client, room="secure", n=1)
            room = app.state.grove.rooms["secure"]
            signature = label_signature(secure, room, "alice")
            _arrive(client, "alice ", room="secure", hash=signature)
    finally:
        app.state.grove.db.dispose()
