"""The admin API's advance, revert and end move a participant and reload their open page in
one unit of work: when the reload cannot be stored (the database is busy), the move is not
stored either and the answer is the 503 that says so. Before, the moves committed first and
the reloads were a later unit of work of their own: a 503 ("nothing stored") for a move that
had happened, which a client then sent again (advancing twice), and no page reloaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.errors import DatabaseBusy
from server.models.core import Participant
from server.page_commands import ReloadCommand
from tests.rest_helpers import HEADERS, REST_KEY

ADMIN = {"Authorization": f"Bearer {REST_KEY}"}
V1 = "/admin/api/v1"


@pytest.fixture
def api(settings) -> Iterator[TestClient]:
    app = create_app(settings.with_changes(rest_key=REST_KEY, timeout_poll_seconds=3600.0))
    with TestClient(app) as client:
        yield client
    app.state.grove.db.dispose()


def _positions(api: TestClient) -> list[tuple[str, int, bool]]:
    with api.app.state.grove.db.read() as db:
        rows = db.scalars(sa.select(Participant).order_by(Participant.id))
        return [(p.code, p.index_in_pages, p.finished) for p in rows]


@pytest.mark.parametrize("action", ["advance", "revert", "end"])
def test_a_move_whose_reload_cannot_be_stored_is_not_stored(api, action, monkeypatch):
    created = api.post(
        "/api/sessions/",
        json={"session_config_name": "prisoner", "num_participants": 2},
        headers=HEADERS,
    )
    sname = created.json()["code"]
    first = api.get(f"/api/sessions/{sname}", headers=HEADERS).json()["participants"][0]["code"]
    for _ in range(2):
        moved = api.post(
            f"{V1}/session/{sname}/players/advance/", json={"unames": [first]}, headers=ADMIN
        )
        assert moved.json()["skipped"] == []
    before = _positions(api)

    def busy(self):
        raise DatabaseBusy("the database is busy")

    monkeypatch.setattr(ReloadCommand, "payload", busy)
    answer = api.post(
        f"{V1}/session/{sname}/players/{action}/", json={"unames": [first]}, headers=ADMIN
    )
    assert answer.status_code == 503, answer.text
    assert _positions(api) == before
