"""Wait pages released through the push channel (server.page_channel): the unit of work that
completes a wait page tells exactly its members' pages, and the admin's advance of a waiting
participant releases that participant's held status request."""

from __future__ import annotations

import json
import threading
import time

import sqlalchemy as sa

from server.models.push import PushMessage
from server.session_monitor import advance_participant


def _session(client, config: str, count: int) -> tuple[str, list[str]]:
    code = client.post(
        "/api/sessions", json={"session_config_name": config, "num_participants": count}
    ).json()["code"]
    people = client.get(f"/api/sessions/{code}").json()["participants"]
    return code, [p["code"] for p in sorted(people, key=lambda p: p["id_in_session"])]


def _page_messages(app) -> list[tuple[str, dict]]:
    with app.state.grove.db.read() as db:
        rows = db.scalars(
            sa.select(PushMessage).where(PushMessage.channel.like("page:%")).order_by("id")
        )
        return [(row.channel.split(":", 1)[1], json.loads(row.body)) for row in rows]


def _hold(client, url: str, answer: dict) -> threading.Thread:
    def ask() -> None:
        answer["json"] = client.get(url + "/status", params={"wait": "1"}).json()
        answer["at"] = time.monotonic()

    thread = threading.Thread(target=ask)
    thread.start()
    return thread


def _contribute(client, code: str, amount: int) -> str:
    page = client.get(f"/InitializeParticipant/{code}")
    assert "/Contribute/" in page.url.path
    answer = client.post(page.url.path, data={"contribution": str(amount)}, follow_redirects=False)
    assert answer.status_code == 303
    return answer.headers["location"]


def test_a_completed_wait_page_tells_its_group_only(app, client):
    _code, codes = _session(client, "public_goods", 6)  # two groups of three
    first_group, second_group = codes[:3], codes[3:]
    waiting_url = _contribute(client, second_group[0], 5)
    other_group_waiter: dict = {}
    holder = _hold(client, waiting_url, other_group_waiter)
    for number, code in enumerate(first_group):
        _contribute(client, code, number)
    index = int(waiting_url.rsplit("/", 1)[1])
    assert _page_messages(app) == [(code, {"type": "check", "page": index}) for code in first_group]
    time.sleep(0.5)
    assert "json" not in other_group_waiter, "another group's release woke this page"
    for code in second_group[1:]:
        _contribute(client, code, 1)
    holder.join(timeout=10)
    assert other_group_waiter["json"] == {"ready": True}


def test_the_admins_advance_releases_a_waiting_participants_held_status(app, client):
    session, (trustor, trustee) = _session(client, "trust", 2)
    wait_url = client.get(f"/InitializeParticipant/{trustee}").url.path
    assert "/WaitForTrustor/" in wait_url
    answer: dict = {}
    holder = _hold(client, wait_url, answer)
    time.sleep(0.5)
    assert "json" not in answer
    advanced = time.monotonic()
    grove = app.state.grove
    outcome = advance_participant(grove.db, grove.project, session, trustee, who="test")
    assert outcome.moved, outcome.note
    holder.join(timeout=10)
    assert answer["json"] == {"ready": True}
    assert answer["at"] - advanced < 2
    # The trustor never moved: the trustee passed the wait page without them.
    assert "/Send/" in client.get(f"/InitializeParticipant/{trustor}").url.path
