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

PROJECT = Path(__file__).resolve().parent / "projects" / "live_auction"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})


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


def test_the_json_filter_writes_amounts_as_otree_does(client):
    html = _market_page(client)
    # oTree 6.0.15's page: var prices = {"start": 7, "step": 2.5};
    assert 'var prices = {"start": 7, "step": 2.5};' in html


def test_the_group_call_live_method_gets_shows_the_live_methods_writes(settings):
    # tests.py checks group.top_bid after each method(...) call: 12, then 15 (as oTree 6.0.15)
    results = run_bots(settings, "auction", database_url=settings.database_url)
    assert [result.error for result in results] == [None]
