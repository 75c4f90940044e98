"""The admin advances every participant of a public_goods session while they submit their own
contributions, on a prodserver with two workers, on SQLite and on PostgreSQL. The advance
locks as a submission does (LOCK ORDER), so each Contribute page is completed exactly once
(by the participant or by the advance, never both), no request fails, and every group's
set_payoffs ran once, on the contributions that were stored."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from server.bots.html_form import parse_forms
from tests import databases
from tests.databases import BOTH
from tests.live_server import live_server

PARTICIPANTS = 18


def _contribute(
    base: str, code: str, amount: int, delay: float, ready: threading.Barrier, out: list
) -> None:
    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as browser:
        page = browser.get(f"/InitializeParticipant/{code}")
        [form] = [f for f in parse_forms(page.text) if "contribution" in f.names()]
        url = str(page.url)
        ready.wait()
        time.sleep(delay)  # some before the advance reaches them, some after
        answer = browser.post(url, data=dict(form.submission({"contribution": str(amount)})))
        out.append(answer.status_code)
        for _ in range(3):  # the wait page, then Results (or the page they were put on)
            out.append(browser.get(str(answer.url)).status_code)


def _advance_all(base: str, session: str, ready: threading.Barrier, out: list) -> None:
    with httpx.Client(base_url=base, timeout=60) as admin:
        page = admin.get(f"/SessionMonitor/{session}")
        [form] = [f for f in parse_forms(page.text) if f.action.endswith("/advance")]
        ticks = {name: True for name in form.names() if name.startswith("advance:")}
        assert len(ticks) == PARTICIPANTS
        ready.wait()
        out.append(admin.post(form.action, data=dict(form.submission(ticks))).status_code)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_advancing_everyone_while_they_submit(tmp_path, backend):
    database_url = databases.database_url(tmp_path, "advance_race", backend)
    log_path = tmp_path / "server.log"
    statuses: list[int] = []
    with live_server(database_url, workers=2, log_path=log_path) as base:
        created = httpx.post(
            f"{base}/api/sessions/",
            json={"session_config_name": "public_goods", "num_participants": PARTICIPANTS},
            timeout=60,
        ).json()
        session = created["code"]
        detail = httpx.get(f"{base}/api/sessions/{session}", timeout=60).json()
        people = [p["code"] for p in detail["participants"]]
        ready = threading.Barrier(PARTICIPANTS + 1)
        threads = [
            threading.Thread(
                target=_contribute, args=(base, code, 10 + i, (i % 6) * 0.06, ready, statuses)
            )
            for i, code in enumerate(people)
        ]
        threads.append(threading.Thread(target=_advance_all, args=(base, session, ready, statuses)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses
    assert all(status < 500 for status in statuses), log_path.read_text()[-6000:]

    engine = databases.engine(database_url)
    try:
        with engine.connect() as connection:
            completions = connection.execute(
                sa.text(
                    "SELECT participant_id, count(*) FROM grove_page_completion "
                    "WHERE page_name = 'Contribute' GROUP BY participant_id"
                )
            ).all()
            assert len(completions) == PARTICIPANTS
            assert {count for _id, count in completions} == {1}
            groups = connection.execute(
                sa.text("SELECT id, total_contribution FROM public_goods_group")
            ).all()
            for group_id, total in groups:
                stored = (
                    connection.execute(
                        sa.text("SELECT contribution FROM public_goods_player WHERE group_id = :g"),
                        {"g": group_id},
                    )
                    .scalars()
                    .all()
                )
                assert None not in stored
                assert total == pytest.approx(sum(stored)), group_id
            timed_out = connection.execute(
                sa.text("SELECT count(*) FROM public_goods_player WHERE timed_out")
            ).scalar_one()
            submitted = connection.execute(
                sa.text("SELECT count(*) FROM public_goods_player WHERE contribution > 0")
            ).scalar_one()
            assert timed_out + submitted == PARTICIPANTS
    finally:
        engine.dispose()
