"""Rooms and vars under concurrency, on SQLite and PostgreSQL, each with two workers.

Faults these guard against (seen on PostgreSQL 15 with ``prodserver --workers 2``):

* vars posted for a label while its participant arrived answered 200 ``pending`` and never
  reached the participant: the post did not see the uncommitted arrival and stored pending
  vars; the arrival had already looked for pending vars and not seen the uncommitted post;
* two first posts for one new label, or a status poll and a join for one label, both inserted
  the same unique row and one of them answered 500.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from server.db import Database
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

pytestmark = pytest.mark.slow

ROOM = "qualtrics_study"


def _rows(database_url: str, query: str) -> list[Any]:
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:
            return list(connection.execute(sa.text(query)))
    finally:
        database.dispose()


def _create_room_session(base: str, n: int) -> str:
    created = httpx.post(
        f"{base}/api/sessions/",
        json={"session_config_name": "survey", "num_participants": n, "room_name": ROOM},
        timeout=60,
    )
    assert created.status_code == 200, created.text
    return created.json()["code"]


def _post_vars(client: httpx.Client, label: str, values: dict[str, Any]) -> httpx.Response:
    return client.post(
        "/api/participant_vars/",
        json={"room_name": ROOM, "participant_label": label, "vars": values},
    )


def _arrive(client: httpx.Client, label: str) -> httpx.Response:
    return client.post(f"/room/{ROOM}/", data={"participant_label": label}, follow_redirects=False)


Task = tuple[str, str, dict[str, Any]]  # ("arrive" | "vars" | "session", label, vars)


@dataclass
class _RaceRound:
    """One round's requests, released together; what each of them was answered."""

    base: str
    participants: int
    tasks: int
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    waited: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.tasks)
        self.lock = threading.Lock()

    def run(self, task: Task, delay: float) -> None:
        kind, label, values = task
        with httpx.Client(base_url=self.base, timeout=60) as client:
            self.barrier.wait()
            time.sleep(delay)
            if kind == "session":
                self.codes.append(_create_room_session(self.base, self.participants))
            elif kind == "vars":
                response = _post_vars(client, label, values)
                with self.lock:
                    if response.status_code == 200:
                        self.acknowledged[label].update(values)
                    else:
                        self.failures.append(f"vars {label}: {response.status_code}")
            else:
                response = _arrive(client, label)
                with self.lock:
                    where = response.headers.get("location", "")
                    if response.status_code == 303 and where.startswith(f"/room/{ROOM}/"):
                        self.waited.append(label)  # no session yet: the room's waiting page
                    elif response.status_code != 303:
                        self.failures.append(f"arrive {label}: {response.status_code}")


@pytest.mark.parametrize("backend", BOTH)
def test_vars_racing_arrival_always_reach_the_participant(tmp_path, backend):
    """Every acknowledged vars post for a label ends up in that label's participant.

    Three rounds of 30 labels; per label, two vars posts (distinct keys) and one arrival,
    shuffled and released with small random delays. In the first round the room's session is
    created while the posts and arrivals are in flight, so some arrivals wait and come back.
    """
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    database_url = databases.database_url(tmp_path, "rooms", backend)
    labels_per_round, rounds = 30, 3
    failures: list[str] = []
    with live_server(database_url, workers=2) as base:
        for round_number in range(rounds):
            late_session = round_number == 0  # the room has no session before this round
            code = None if late_session else _create_room_session(base, labels_per_round)
            labels = [f"r{round_number}-{i:02d}" for i in range(labels_per_round)]
            tasks: list[Task] = []
            for label in labels:
                tasks.append(("arrive", label, {}))
                tasks.extend(("vars", label, {f"k{n}": f"{label}/{n}"}) for n in range(2))
            rng.shuffle(tasks)
            delays = [rng.uniform(0, 0.03) for _ in tasks]
            if late_session:
                middle = len(tasks) // 3
                tasks.insert(middle, ("session", "", {}))
                delays.insert(middle, 0.01)
            race = _RaceRound(base, labels_per_round, len(tasks))
            with ThreadPoolExecutor(len(tasks)) as pool:
                list(pool.map(race.run, tasks, delays))
            failures += race.failures
            code = code or race.codes[0]
            with httpx.Client(base_url=base, timeout=60) as client:
                for label in race.waited:
                    assert _arrive(client, label).status_code == 303
            detail = httpx.get(f"{base}/api/sessions/{code}", timeout=60).json()
            by_label = {p["label"]: p["vars"] for p in detail["participants"] if p["label"]}
            assert sorted(by_label) == labels, f"seed {seed}"
            failures += [
                f"{label}: participant has {by_label[label]}, acknowledged {values}"
                for label, values in race.acknowledged.items()
                if by_label[label] != values
            ]
    orphans = _rows(database_url, "SELECT label FROM grove_pending_vars")
    assert not failures, f"seed {seed}: {failures}"
    assert orphans == [], f"seed {seed}: pending rows left for arrived labels"


@pytest.mark.parametrize("backend", BOTH)
def test_same_new_label_posted_at_once_gives_one_row(tmp_path, backend):
    """Two first posts for one new label at once: both 200, one pending row, both vars."""
    database_url = databases.database_url(tmp_path, "rooms", backend)
    labels = [f"new-{i:02d}" for i in range(20)]
    tasks = [(label, post) for label in labels for post in range(2)]
    barrier = threading.Barrier(len(tasks))
    statuses: list[int] = []
    with live_server(database_url, workers=2) as base:

        def post(task: tuple[str, int]) -> None:
            label, number = task
            with httpx.Client(base_url=base, timeout=60) as client:
                barrier.wait()
                statuses.append(_post_vars(client, label, {f"k{number}": number}).status_code)

        with ThreadPoolExecutor(len(tasks)) as pool:
            list(pool.map(post, tasks))
    assert statuses == [200] * len(tasks)
    rows = _rows(database_url, "SELECT label, vars FROM grove_pending_vars ORDER BY label")
    assert [row[0] for row in rows] == labels
    for _label, values in rows:
        assert (values if isinstance(values, dict) else json.loads(values)) == {"k0": 0, "k1": 1}


@pytest.mark.parametrize("backend", BOTH)
def test_status_poll_and_join_for_one_label_at_once(tmp_path, backend):
    """A waiting page's status poll and a join for the same label, at the same instant."""
    database_url = databases.database_url(tmp_path, "rooms", backend)
    labels = [f"poll-{i:02d}" for i in range(25)]
    tasks = [(label, kind) for label in labels for kind in ("poll", "join")]
    barrier = threading.Barrier(len(tasks))
    failures: list[str] = []
    with live_server(database_url, workers=2) as base:

        def run(task: tuple[str, str]) -> None:
            label, kind = task
            with httpx.Client(base_url=base, timeout=60) as client:
                barrier.wait()
                if kind == "poll":
                    response = client.get(
                        f"/room/{ROOM}/status", params={"participant_label": label}
                    )
                    if response.status_code != 200 or response.json()["ready"] is not False:
                        failures.append(f"poll {label}: {response.status_code} {response.text}")
                else:
                    response = _arrive(client, label)
                    where = response.headers.get("location", "")
                    if not where.startswith(f"/room/{ROOM}/"):  # the waiting page: no session
                        failures.append(f"join {label}: {response.status_code} {where}")

        with ThreadPoolExecutor(len(tasks)) as pool:
            list(pool.map(run, tasks))
    assert not failures, failures
    rows = _rows(database_url, "SELECT visitor FROM grove_room_presence ORDER BY visitor")
    assert [row[0] for row in rows] == [f"label:{label}" for label in labels]
