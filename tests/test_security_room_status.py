"""The room status poll shows the admin only real arrivals: a label outside the room's label
file, or without its signed link, never becomes a "waiting" entry; and a waiting page's poll
writes its "last seen" at most every few seconds, not on every poll."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.rooms import PRESENCE_REFRESH_SECONDS, label_signature


def _presence(client: TestClient) -> list[tuple[str, str, dt.datetime]]:
    with client.app.state.grove.db.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT room_name, visitor, last_seen FROM grove_room_presence ORDER BY id")
        )
        return [tuple(row) for row in rows]


def _waiting_on_rooms_page(client: TestClient, room: str) -> int:
    page = client.get("/rooms").text
    section = page.split(f"<small>({room})</small>")[1]
    return int(re.search(r"Waiting now: (\d+)", section).group(1))


def test_fifty_made_up_labels_polling_create_no_waiting_entries(client):
    for number in range(50):
        for room in ("econ101", "live_demo", "qualtrics_study"):
            status = client.get(
                f"/room/{room}/status", params={"participant_label": f"fake{number}"}
            )
            assert status.json() == {"ready": False, "waiting": 0}
    assert client.get("/room/live_demo/status").json() == {"ready": False, "waiting": 0}
    assert _presence(client) == []
    assert _waiting_on_rooms_page(client, "econ101") == 0


def test_only_a_label_of_the_file_arriving_waits(client):
    refused = client.post("/room/econ101/", data={"participant_label": "mallory"})
    assert refused.status_code == 403
    arrived = client.post("/room/econ101/", data={"participant_label": "alice"})
    assert arrived.status_code == 200
    assert "Please wait" in arrived.text
    status = client.get("/room/econ101/status", params={"participant_label": "alice"})
    assert status.json() == {"ready": False, "waiting": 1}
    assert [visitor for _room, visitor, _seen in _presence(client)] == ["label:alice"]
    assert _waiting_on_rooms_page(client, "econ101") == 1


def test_a_secure_room_counts_only_signed_arrivals(settings):
    secure = settings.with_changes(
        rooms=(
            {"name": "secure", "participant_label_file": "rooms/econ101.txt", "use_secure_urls": 1},
        )
    )
    app = create_app(secure)
    try:
        with TestClient(app) as client:
            room = app.state.grove.rooms["secure"]
            for signature in (None, "forged"):
                data = {"participant_label": "alice"}
                if signature:
                    data["hash"] = signature
                assert client.post("/room/secure/", data=data).status_code == 403
                query = {**data}
                assert client.get("/room/secure/status", params=query).json()["waiting"] == 0
            assert _presence(client) == []
            signed = {"participant_label": "bob", "hash": label_signature(secure, room, "bob")}
            assert client.post("/room/secure/", data=signed).status_code == 200
            assert client.get("/room/secure/status", params=signed).json() == {
                "ready": False,
                "waiting": 1,
            }
    finally:
        app.state.grove.db.dispose()


def test_polls_write_last_seen_at_most_every_few_seconds(client):
    assert client.post("/room/live_demo/").status_code == 200  # an arrival without a label
    [(_room, visitor, first_seen)] = _presence(client)
    assert visitor.startswith("browser:")
    for _ in range(20):
        assert client.get("/room/live_demo/status").json() == {"ready": False, "waiting": 1}
    assert [seen for _r, _v, seen in _presence(client)] == [first_seen]  # no write per poll
    # Some seconds later (moved back in the database) a poll writes it again.
    with client.app.state.grove.db.engine.begin() as connection:
        connection.execute(
            sa.update(sa.table("grove_room_presence", sa.column("last_seen"))).values(
                last_seen=dt.datetime.now(dt.UTC)
                - dt.timedelta(seconds=PRESENCE_REFRESH_SECONDS + 1)
            )
        )
    [(_room, _visitor, moved_back)] = _presence(client)
    assert client.get("/room/live_demo/status").json() == {"ready": False, "waiting": 1}
    [(_room, _visitor, refreshed)] = _presence(client)
    assert refreshed != moved_back
    assert refreshed != first_seen
