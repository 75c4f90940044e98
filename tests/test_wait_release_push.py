"""Wait pages released through the push channel (server.page_channel): the unit of work that
completes a wait page tells exactly its members' pages, and the admin's advance of a waiting
participant releases that participant's held status request. The unit of work that completes
a wait page moves its waiting members on, and their held requests answer with the page to load
(what the page's reload did)."""

from __future__ import annotations

import json
import threading
import time

import sqlalchemy as sa

from server.models.core import Participant
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
    messages = _page_messages(app)
    assert sorted(code for code, _ in messages) == sorted(first_group)
    assert all(body["type"] == "check" and body["page"] == index for _, body in messages)
    # The two who waited were moved on and told where to; the last arrival moved itself.
    assert [("url" in body) for _, body in sorted(messages)] == [
        code != first_group[-1] for code in sorted(first_group)
    ]
    time.sleep(0.5)
    assert "json" not in other_group_waiter, "another group's release woke this page"
    for code in second_group[1:]:
        _contribute(client, code, 1)
    holder.join(timeout=10)
    results_url = waiting_url.replace("/ResultsWaitPage/", "/Results/")
    results_url = results_url[: results_url.rindex("/") + 1] + str(index + 1)
    assert other_group_waiter["json"] == {"ready": True, "url": results_url}


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
    start = client.get(f"/InitializeParticipant/{trustee}", follow_redirects=False)
    moved_to = start.headers["location"]
    assert "/SendBack/" in moved_to
    assert answer["json"] == {"ready": True, "url": moved_to}
    assert answer["at"] - advanced < 2
    # The trustor never moved: the trustee passed the wait page without them.
    assert "/Send/" in client.get(f"/InitializeParticipant/{trustor}").url.path


def _position(app, code: str) -> int:
    with app.state.grove.db.read() as db:
        return db.scalar(sa.select(Participant.index_in_pages).where(Participant.code == code))


def test_a_released_status_request_moves_its_participant_on_and_names_the_page(app, client):
    _session_code, (trustor, trustee) = _session(client, "trust", 2)
    wait_url = client.get(f"/InitializeParticipant/{trustee}").url.path
    assert "/WaitForTrustor/" in wait_url
    waiting_at = _position(app, trustee)
    answer: dict = {}
    holder = _hold(client, wait_url, answer)
    time.sleep(0.3)
    send = client.get(f"/InitializeParticipant/{trustor}").url.path
    assert client.post(send, data={"sent_amount": "5"}, follow_redirects=False).status_code == 303
    holder.join(timeout=10)
    assert answer["json"]["ready"] is True
    next_url = answer["json"]["url"]
    assert "/SendBack/" in next_url
    # Moved on with the release: the named page loads without a redirect.
    assert _position(app, trustee) > waiting_at
    page = client.get(next_url, follow_redirects=False)
    assert page.status_code == 200
    assert 'name="sent_back_amount"' in page.text
    # A browser without the script reloads the wait page: it is sent to the same page.
    reload = client.get(wait_url, follow_redirects=False)
    assert reload.status_code == 303
    assert reload.headers["location"] == next_url


def test_a_status_request_for_a_completed_wait_page_names_the_page_at_once(app, client):
    _session_code, (trustor, trustee) = _session(client, "trust", 2)
    wait_url = client.get(f"/InitializeParticipant/{trustee}").url.path
    send = client.get(f"/InitializeParticipant/{trustor}").url.path
    client.post(send, data={"sent_amount": "5"}, follow_redirects=False)
    # The trustor's submission completed the wait page and moved the trustee on with it.
    moved_to = client.get(f"/InitializeParticipant/{trustee}", follow_redirects=False)
    assert "/SendBack/" in moved_to.headers["location"]
    assert client.get(wait_url + "/status").json() == {"ready": True}
    held = client.get(wait_url + "/status", params={"wait": "1"}).json()
    assert held == {"ready": True, "url": moved_to.headers["location"]}
