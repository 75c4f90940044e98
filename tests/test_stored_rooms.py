"""Rooms stored in the database (server/stored_rooms.py): created, changed and deleted while
they have no session, read-only when settings.py defines them, and met by participants exactly
as a settings room is (its URL, its labels and secure links, its waiting page, the REST API's
room_name)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.errors import Conflict, InvalidArguments, RoomNotFound
from server.models.core import ExperimentSession
from server.models.rooms import RoomState, StoredRoom
from server.rooms import all_rooms, close_room, find_room, label_signature
from server.scripted_sessions import NewSession, create_scripted_session
from server.stored_rooms import create_stored_room, delete_stored_room, update_stored_room
from tests.databases import engine as make_engine


@pytest.fixture
def grove(app: Any) -> Any:
    return app.state.grove


def _stored_rows(grove: Any) -> list[tuple[str, Any]]:
    with grove.db.read() as db:
        return [
            (r.name, r.participant_labels)
            for r in db.scalars(sa.select(StoredRoom).order_by(StoredRoom.name))
        ]


def test_a_stored_room_with_labels_works_for_participants_as_a_settings_room(client, grove):
    create_stored_room(
        grove.db, grove.rooms, "lab2", participant_labels=[" alice", "bob", "bob"], who="test"
    )
    assert _stored_rows(grove) == [("lab2", ["alice", "bob"])]  # normalized, once each
    asked = client.get("/room/lab2/")
    assert asked.status_code == 200
    assert 'name="participant_label"' in asked.text
    waiting = client.post("/room/lab2/", data={"participant_label": "alice"})
    assert waiting.status_code == 200
    assert "/room/lab2/status" in waiting.text  # the waiting page polls
    refused = client.post("/room/lab2/", data={"participant_label": "mallory"})
    assert refused.status_code == 403
    created = client.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 2, "room_name": "lab2"},
    )
    assert created.status_code == 200, created.text
    assert client.get("/room/lab2/status?participant_label=alice").json()["ready"] is True
    joined = client.post("/room/lab2/", data={"participant_label": "alice"}, follow_redirects=False)
    assert joined.status_code == 303
    assert joined.headers["location"].startswith("/InitializeParticipant/")
    listed = {room["name"]: room for room in client.get("/api/rooms/").json()}
    assert listed["lab2"]["session_code"] == created.json()["code"]


def test_a_secure_stored_room_needs_each_labels_signed_link(client, grove):
    room = create_stored_room(
        grove.db,
        grove.rooms,
        "secure2",
        participant_labels=["p1"],
        use_secure_urls=True,
        who="test",
    )
    assert client.post("/room/secure2/", data={"participant_label": "p1"}).status_code == 403
    signed = client.post(
        "/room/secure2/",
        data={"participant_label": "p1", "hash": label_signature(grove.settings, room, "p1")},
    )
    assert signed.status_code == 200


def test_the_admins_rooms_page_lists_stored_rooms(client, grove):
    create_stored_room(grove.db, grove.rooms, "lab3", display_name="Lab three", who="test")
    assert [r.name for r in all_rooms(grove.db, grove.rooms)][-1] == "lab3"
    page = client.get("/rooms")  # the sample project has no admin password: open
    assert page.status_code == 200
    assert "Lab three" in page.text
    assert page.text.count("created over the admin API") == 1  # settings rooms say nothing
    assert "/room/lab3/" in page.text


def test_settings_rooms_are_read_only_and_names_are_unique(grove):
    with pytest.raises(Conflict, match=r"settings\.py"):
        create_stored_room(grove.db, grove.rooms, "econ101", who="test")
    with pytest.raises(Conflict, match="read-only"):
        update_stored_room(grove.db, grove.rooms, "econ101", {"display_name": "x"}, who="test")
    with pytest.raises(Conflict, match="read-only"):
        delete_stored_room(grove.db, grove.rooms, "econ101", who="test")
    create_stored_room(grove.db, grove.rooms, "lab4", who="test")
    with pytest.raises(Conflict, match="exists already"):
        create_stored_room(grove.db, grove.rooms, "lab4", who="test")
    assert _stored_rows(grove) == [("lab4", None)]


@pytest.mark.parametrize(
    ("name", "fields", "field"),
    [
        ("bad name", {}, "name"),
        ("", {}, "name"),
        ("x" * 101, {}, "name"),
        ("ok", {"participant_labels": []}, "participant_labels"),
        ("ok", {"participant_labels": ["a", 3]}, "participant_labels"),
        ("ok", {"participant_labels": "alice"}, "participant_labels"),
        ("ok", {"use_secure_urls": True}, "use_secure_urls"),
        ("ok", {"display_name": "  "}, "display_name"),
        ("ok", {"display_name": "a\x00b"}, "display_name"),
    ],
)
def test_bad_definitions_are_refused_and_nothing_is_stored(grove, name, fields, field):
    with pytest.raises(InvalidArguments) as refused:
        create_stored_room(grove.db, grove.rooms, name, **fields, who="test")
    assert refused.value.field == field
    assert _stored_rows(grove) == []


def test_a_room_changes_and_goes_only_without_a_session(client, grove):
    create_stored_room(grove.db, grove.rooms, "lab5", participant_labels=["a"], who="test")
    changed = update_stored_room(
        grove.db,
        grove.rooms,
        "lab5",
        {"participant_labels": ["b", "c"], "display_name": "Five"},
        who="test",
    )
    assert (changed.display_name, changed.labels) == ("Five", frozenset({"b", "c"}))
    with pytest.raises(InvalidArguments):
        update_stored_room(grove.db, grove.rooms, "lab5", {"name": "other"}, who="test")
    with pytest.raises(InvalidArguments):  # secure links need labels
        update_stored_room(
            grove.db,
            grove.rooms,
            "lab5",
            {"participant_labels": None, "use_secure_urls": True},
            who="test",
        )
    code = client.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 1, "room_name": "lab5"},
    ).json()["code"]
    with pytest.raises(Conflict, match=code):
        update_stored_room(grove.db, grove.rooms, "lab5", {"display_name": "x"}, who="test")
    with pytest.raises(Conflict, match="close the room first"):
        delete_stored_room(grove.db, grove.rooms, "lab5", who="test")
    assert _stored_rows(grove) == [("lab5", ["b", "c"])]
    close_room(grove.db, find_room(grove.db, grove.rooms, "lab5"), who="test")
    delete_stored_room(grove.db, grove.rooms, "lab5", who="test")
    assert _stored_rows(grove) == []
    with pytest.raises(RoomNotFound):
        find_room(grove.db, grove.rooms, "lab5")
    assert client.get("/room/lab5/").status_code == 404
    with pytest.raises(RoomNotFound):
        delete_stored_room(grove.db, grove.rooms, "lab5", who="test")


def test_a_new_room_is_seen_at_once_by_a_second_worker(app, settings):
    from server.app import create_app

    second = create_app(settings)
    try:
        grove = app.state.grove
        create_stored_room(grove.db, grove.rooms, "lab6", who="test")
        with TestClient(second) as other:
            assert other.get("/room/lab6/").status_code == 200
    finally:
        second.state.grove.db.dispose()


def test_a_session_is_never_created_in_a_room_being_deleted(grove, settings):
    """Creating a session in a stored room locks the room (LOCK ORDER 0), as its deletion
    does: a deletion that found the room without a session commits first and the creation
    then finds no room (on PostgreSQL it read the room before the deletion committed and
    made a session in a room that no longer exists)."""
    create_stored_room(grove.db, grove.rooms, "doomed", who="test")
    outcomes: list[object] = []
    deleter = make_engine(settings.database_url)
    try:
        with deleter.begin() as held:  # the deletion, holding its locks until the end
            held.execute(
                sa.select(RoomState.room_name)
                .where(RoomState.room_name == "doomed")
                .with_for_update()
            ).all()
            held.execute(sa.delete(StoredRoom).where(StoredRoom.name == "doomed"))

            def create() -> None:
                try:
                    outcomes.append(
                        create_scripted_session(
                            grove.db,
                            grove.project,
                            NewSession("survey", 1, room_name="doomed"),
                            who="test",
                        )
                    )
                except Exception as exc:
                    outcomes.append(exc)

            creator = threading.Thread(target=create)
            creator.start()
            creator.join(0.5)  # waits for the room's lock (PostgreSQL) or the write lock
    finally:
        creator.join()
        deleter.dispose()
    assert [type(o) for o in outcomes] == [RoomNotFound], outcomes
    with grove.db.read() as db:
        rooms = db.scalars(sa.select(ExperimentSession.room_name)).all()
    assert "doomed" not in rooms


@pytest.mark.parametrize("name", ["x" * 300, "no such room", "nowhere"])
def test_a_session_in_a_room_that_does_not_exist_is_refused_and_writes_nothing(grove, name):
    # The room is locked only once it is known to exist: a made-up name (longer than the
    # room table's column on PostgreSQL, a 500 there) writes no row.
    with pytest.raises(RoomNotFound):
        create_scripted_session(
            grove.db, grove.project, NewSession("survey", 1, room_name=name), who="test"
        )
    with grove.db.read() as db:
        assert db.scalars(sa.select(RoomState.room_name)).all() == []
