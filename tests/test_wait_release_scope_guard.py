"""The last arrival at a wait_for_all_groups page tells every participant of its subsession,
once each, and nobody of another session waiting at the same page index (the release
messages: server/flow.py, ``_move_on_the_waiting``)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from server.models.push import PushMessage
from tests import databases
from tests.conftest import create_demo_session
from tests.test_multiplayer import RACE_PROJECT


def _start(client: TestClient, link: str) -> str:
    return str(client.get(link, follow_redirects=False).headers["location"])


def _checks(app: Any) -> list[tuple[str, dict[str, Any]]]:
    with app.state.grove.db.read() as db:
        rows = db.scalars(
            sa.select(PushMessage).where(PushMessage.channel.like("page:%")).order_by("id")
        )
        return [(row.channel.split(":", 1)[1], json.loads(row.body)) for row in rows]


def test_a_subsession_wide_release_tells_each_member_once_and_no_other_session(
    tmp_path: Any,
) -> None:
    settings = load_settings(RACE_PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)})
    app = create_app(settings)
    with TestClient(app) as client:
        _other, other_links = create_demo_session(client, "allgroups")
        other_url = _start(client, other_links[0])  # waits at the same page index
        _code, links = create_demo_session(client, "allgroups")
        codes = [link.rstrip("/").rsplit("/", 1)[1] for link in links[:3]]
        urls = [_start(client, link) for link in links[:2]]
        assert _checks(app) == []
        urls.append(_start(client, links[2]))  # the last of three groups of one
        index = int(urls[0].rsplit("/", 1)[1])
        checks = dict(_checks(app))
        assert len(checks) == len(_checks(app)) == 3  # each member once, nobody else

        # The two who waited were moved on with the release and told where to; the last
        # arrival moves on by itself.
        def done(url: str) -> str:
            return url.replace(f"/Everyone/{index}", f"/Done/{index + 1}")

        assert checks == {
            codes[0]: {"type": "check", "page": index, "url": done(urls[0])},
            codes[1]: {"type": "check", "page": index, "url": done(urls[1])},
            codes[2]: {"type": "check", "page": index},
        }
        assert client.get(other_url + "/status").json() == {"ready": False}
    app.state.grove.db.dispose()
