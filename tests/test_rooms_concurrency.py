"""40 people arriving in a room at the same instant, and one label arriving ten times at once,
on a server with two workers, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

pytestmark = pytest.mark.slow


def _arrive_all(base: str, labels: list[str]) -> list[str]:
    barrier = threading.Barrier(len(labels))

    def arrive(label: str) -> str:
        with httpx.Client(base_url=base, timeout=60) as browser:
            barrier.wait()
            response = browser.post("/room/qualtrics_study/", data={"participant_label": label})
            assert response.status_code == 303, response.text
            return response.headers["location"]

    with ThreadPoolExecutor(len(labels)) as pool:
        return list(pool.map(arrive, labels))


@pytest.mark.parametrize("backend", BOTH)
def test_40_concurrent_arrivals_get_40_participants(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "rooms", backend)
    with live_server(database_url, workers=2) as base:
        created = httpx.post(
            f"{base}/api/sessions/",
            json={
                "session_config_name": "survey",
                "num_participants": 40,
                "room_name": "qualtrics_study",
            },
        )
        code = created.json()["code"]
        labels = [f"L{i:02d}" for i in range(40)]
        locations = _arrive_all(base, labels)
        assert len(set(locations)) == 40
        again = _arrive_all(base, labels[:10])
        assert again == locations[:10]  # each label returns to its own participant
        detail = httpx.get(f"{base}/api/sessions/{code}").json()
        assert sorted(p["label"] for p in detail["participants"]) == labels


@pytest.mark.parametrize("backend", BOTH)
def test_same_label_twice_at_once_gets_one_participant(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "rooms", backend)
    with live_server(database_url, workers=2) as base:
        httpx.post(
            f"{base}/api/sessions/",
            json={
                "session_config_name": "survey",
                "num_participants": 10,
                "room_name": "qualtrics_study",
            },
        )
        locations = _arrive_all(base, ["same"] * 10)
        assert len(set(locations)) == 1
