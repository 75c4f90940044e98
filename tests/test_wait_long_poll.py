"""Wait pages answer by long polling: a waiting request is held until the group's wait page
completes, and answered within moments of that, even when another worker completed it."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server


def _start(client: httpx.Client, code: str) -> str:
    response = client.get(f"/InitializeParticipant/{code}", follow_redirects=True)
    assert response.status_code == 200
    return response.url.path


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_long_poll_is_held_until_the_trustor_moves_then_answers_at_once(tmp_path, backend):
    with live_server(databases.database_url(tmp_path, "db", backend), workers=2) as base:
        # Separate connections, so the two players usually reach different workers.
        trustor = httpx.Client(base_url=base, timeout=30)
        trustee = httpx.Client(base_url=base, timeout=30)
        code = trustor.post(
            "/api/sessions", json={"session_config_name": "trust", "num_participants": 2}
        ).json()["code"]
        people = trustor.get(f"/api/sessions/{code}").json()["participants"]
        codes = [p["code"] for p in sorted(people, key=lambda p: p["id_in_session"])]
        send_page = _start(trustor, codes[0])
        wait_page = _start(trustee, codes[1])
        assert "/Send/" in send_page
        assert "/WaitForTrustor/" in wait_page
        assert trustee.get(wait_page + "/status").json() == {"ready": False}

        answer: dict[str, object] = {}

        def wait() -> None:
            started = time.monotonic()
            answer["json"] = trustee.get(wait_page + "/status", params={"wait": "1"}).json()
            answer["at"] = time.monotonic()
            answer["held"] = answer["at"] - started

        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(1.0)
        assert "json" not in answer, "the long poll answered before the wait page completed"
        moved = time.monotonic()
        response = trustor.post(send_page, data={"sent_amount": "5"}, follow_redirects=False)
        assert response.status_code == 303
        waiter.join(timeout=10)
        assert answer["json"]["ready"] is True
        assert "/SendBack/" in answer["json"]["url"]
        assert answer["held"] >= 0.9
        assert answer["at"] - moved < 1.0
        reload = trustee.get(wait_page, follow_redirects=False)
        assert reload.headers["location"] == answer["json"]["url"]
        trustor.close()
        trustee.close()


@pytest.mark.slow
def test_status_without_wait_answers_at_once(tmp_path):
    with live_server(databases.database_url(tmp_path), workers=1) as base:
        client = httpx.Client(base_url=base, timeout=30)
        code = client.post(
            "/api/sessions", json={"session_config_name": "trust", "num_participants": 2}
        ).json()["code"]
        people = client.get(f"/api/sessions/{code}").json()["participants"]
        trustee_code = sorted(people, key=lambda p: p["id_in_session"])[1]["code"]
        wait_page = _start(client, trustee_code)
        started = time.monotonic()
        assert client.get(wait_page + "/status").json() == {"ready": False}
        assert time.monotonic() - started < 5
        client.close()


def test_status_of_an_unknown_participant_is_a_json_404(client):
    for suffix in ("", "?wait=1"):
        response = client.get(f"/p/nosuchcode/trust/WaitForTrustor/2/status{suffix}")
        assert response.status_code == 404
        body = response.json()
        assert body["ok"] is False
        assert "nosuchcode" in body["error"]
