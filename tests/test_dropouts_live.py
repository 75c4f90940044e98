"""Dropouts on real servers: two of four participants of the sample prisoner's dilemma are
marked as dropouts over the admin API; the other two play in their browsers, on a prodserver
with two workers, on SQLite and PostgreSQL. The dropouts play on by the workers' timeout sweep
(server/dropouts.py), so their groups are never held up."""

from __future__ import annotations

import csv
import io
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.bots.html_form import parse_forms
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

KEY = "dropout-test-key-0123456789-abcdefghij"


def _detail(api: httpx.Client, sname: str) -> dict[str, Any]:
    answer = api.get(f"/admin/api/v1/session/{sname}/")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _play(base: str, code: str, deadline: float) -> str:
    """A participant's browser: fill each page's form (cooperate), wait on wait pages (their
    page polls), until the end page; return the URL it ended on."""
    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as browser:
        page = browser.get(f"/InitializeParticipant/{code}")
        while time.monotonic() < deadline:
            url = str(page.url)
            if url.endswith("/finished"):
                return url
            forms = [f for f in parse_forms(page.text) if f.action and "/p/" in f.action]
            if not forms:  # a wait page: ask again, as its script does
                time.sleep(0.2)
                page = browser.get(url)
                continue
            values = {"cooperate": "True"} if "cooperate" in forms[0].names() else {}
            page = browser.post(url, data=dict(forms[0].submission(values)))
            assert page.status_code == 200, page.text
    raise AssertionError(f"{code} did not finish in time")


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_dropouts_marked_over_the_api_never_hold_up_their_groups(
    tmp_path: Path, backend: str
) -> None:
    """Two of four are marked as dropouts before anyone starts; the other two play in their
    browsers. The workers' timeout sweep plays on for the dropouts (each page submitted as its
    timeout would, each wait page as an arrival), so whoever is paired with a dropout is never
    stuck at a wait page, and all four finish."""
    database_url = databases.database_url(tmp_path, "dropouts", backend)
    log_path = tmp_path / "server.log"
    with (
        live_server(
            database_url, workers=2, extra_env={"OTREE_REST_KEY": KEY}, log_path=log_path
        ) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as api,
    ):
        sname = api.post("/admin/api/v1/sessions/", json={"config": "prisoner", "n_players": 4})
        sname = sname.json()["sname"]
        codes = [p["code"] for p in _detail(api, sname)["participants"]]
        marked = api.post(
            f"/admin/api/v1/session/{sname}/players/dropout/", json={"unames": codes[::2]}
        )
        assert marked.json() == {"marked_dropout": codes[::2], "skipped": []}
        deadline = time.monotonic() + 90
        ends: list[str] = []
        players = [
            threading.Thread(target=lambda c=c: ends.append(_play(base, c, deadline)))
            for c in codes[1::2]
        ]
        for player in players:
            player.start()
        for player in players:
            player.join()
        assert len(ends) == 2
        while time.monotonic() < deadline:
            final = _detail(api, sname)["participants"]
            if all(p["finished"] for p in final):
                break
            time.sleep(0.3)
        assert [(p["finished"], p["is_dropout"]) for p in final] == [
            (True, True),
            (True, False),
            (True, True),
            (True, False),
        ]
        times = api.get(f"/admin/api/v1/session/{sname}/page-times/")
    assert "Traceback" not in log_path.read_text(errors="replace")
    timed_out = {code: set() for code in codes}
    for row in csv.DictReader(io.StringIO(times.content.decode("utf-8-sig"))):
        # Pages only: not the InitializeParticipant row (the start, as oTree exports it).
        if row["is_wait_page"] in ("0", "False") and row["page_name"] != "InitializeParticipant":
            timed_out[row["participant_code"]].add(row["timeout_happened"] in ("1", "True"))
    assert [timed_out[code] for code in codes] == [{True}, {False}, {True}, {False}]
