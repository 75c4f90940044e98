"""The core flow on PostgreSQL, the production database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from tests.conftest import create_demo_session
from tests.test_survey_flow import VALID_ATTITUDES, VALID_DEMOGRAPHICS

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_survey_on_postgres(settings, postgres_url):
    app = create_app(settings.with_changes(database_url=postgres_url))
    try:
        with TestClient(app) as client:
            _code, links = create_demo_session(client, "survey")
            url = client.get(links[0], follow_redirects=False).headers["location"]
            bad = client.post(url, data={"age": "x"}, follow_redirects=False)
            assert bad.status_code == 200
            assert "Not a valid integer value" in bad.text
            url = client.post(url, data=VALID_DEMOGRAPHICS, follow_redirects=False).headers[
                "location"
            ]
            url = client.post(url, data=VALID_ATTITUDES, follow_redirects=False).headers["location"]
            assert url.endswith("/survey/Results/3")
        with app.state.grove.db.engine.connect() as connection:
            age, nickname = connection.execute(
                sa.text("SELECT age, nickname FROM survey_player")
            ).one()
        assert (age, nickname) == (30, "Alice")
    finally:
        app.state.grove.db.dispose()
