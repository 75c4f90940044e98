"""A live auction ported from oTree 6 (tests/projects/live_auction), as a researcher meets it.

The folder is in oTree's layout and passes ``otree test auction`` on oTree 6.0.15. The
expected page text was read off oTree 6.0.15 serving the same folder (``otree devserver``):
a Currency in ``js_vars`` or through ``|json`` is a whole number in points (``cu(100)`` is
``100``, not ``100.0``) and a float in money (``$3.00`` is ``3.0``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import run_bots
from server.config import Settings, load_settings
from tests import databases
from tests.conftest import create_demo_session
from tests.rest_helpers import HEADERS, REST_KEY

PROJECT = Path(__file__).resolve().parent / "projects" / "live_auction"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    url = databases.database_url(tmp_path)
    return load_settings(PROJECT, {"DATABASE_URL": url}).with_changes(rest_key=REST_KEY)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.grove.db.dispose()


def _market_page(client: TestClient) -> str:
    _code, links = create_demo_session(client, "auction")
    page = client.get(links[0])
    assert page.status_code == 200
    assert "/auction/Market/" in str(page.url)
    return page.text


def test_js_vars_write_amounts_as_otree_does(client):
    html = _market_page(client)
    # oTree 6.0.15's page: var js_vars = {"start_price": 7, "endowment": 100, "payout": 3.0, ...}
    line = re.search(r"var js_vars = (\{.*?\});", html)
    assert line is not None
    assert line.group(1) == '{"start_price": 7, "endowment": 100, "payout": 3.0, "step": 2.5}'


def _bid(client: TestClient, page_url: str, amount: float) -> None:
    """The participant on ``page_url`` (/p/<code>/auction/Market/<index>) bids live."""
    _, _p, code, _app, _page, index = page_url.split("/")
    with client.websocket_connect(f"/live/{code}/{index}") as ws:
        ws.send_json({"type": "hello", "since": 0, "seen": []})
        ws.send_json({"type": "send", "id": "bid-1", "data": {"amount": amount}})
        while (message := ws.receive_json())["type"] != "ack":
            pass
        assert message["ok"] is True


def test_rest_writes_amounts_in_vars_as_otree_does(client):
    body = {"session_config_name": "auction", "num_participants": 2}
    code = client.post("/api/sessions", json=body, headers=HEADERS).json()["code"]
    participants = client.get(f"/api/sessions/{code}", headers=HEADERS).json()["participants"]
    page = client.get(f"/InitializeParticipant/{participants[0]['code']}")
    _bid(client, page.url.path, 12)  # the live method stores it in best_bid and high_bid
    wanted = {"participant_vars": ["best_bid"], "session_vars": ["high_bid"]}
    answer = client.post(f"/api/get_session/{code}", json=wanted, headers=HEADERS).json()
    # oTree 6.0.15: {..., "participants": [{..., "best_bid": 12}, {...}], "high_bid": 12}
    # (12, not 12.0: json reads 12.0 as a float, which == 12 would not notice)
    best_bid, high_bid = answer["participants"][0]["best_bid"], answer["high_bid"]
    assert (best_bid, type(best_bid)) == (12, int)
    assert (high_bid, type(high_bid)) == (12, int)


def test_the_json_filter_writes_amounts_as_otree_does(client):
    html = _market_page(client)
    # oTree 6.0.15's page: var prices = {"start": 7, "step": 2.5};
    assert 'var prices = {"start": 7, "step": 2.5};' in html


def test_the_group_call_live_method_gets_shows_the_live_methods_writes(settings):
    # tests.py checks group.top_bid after each method(...) call: 12, then 15 (as oTree 6.0.15)
    results = run_bots(settings, "auction", database_url=settings.database_url)
    assert [result.error for result in results] == [None]
