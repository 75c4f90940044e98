"""oTree's ``?participant_label=`` on a participant's start link and on the session-wide link
(oTree's admin.rst, "Participant labels": "append a participant_label parameter to each
participant's start URL ... if the participant opens their start link twice, they will be
assigned back to the same participant (if you are using a room-wide or session-wide URL)").
Labels follow Grove's one rule (surrounding whitespace is not part of a label)."""

from __future__ import annotations

import re

from starlette.testclient import TestClient


def _create(client: TestClient) -> tuple[str, str, list[str]]:
    """A three-participant session: its code, session-wide path and start links."""
    created = client.post(
        "/api/sessions/", json={"session_config_name": "survey", "num_participants": 3}
    )
    assert created.status_code == 200, created.text
    session = client.get(f"/api/sessions/{created.json()['code']}").json()
    join = "/join/" + session["session_wide_url"].rsplit("/join/", 1)[1]
    links = [
        f"/InitializeParticipant/{p['code']}"
        for p in sorted(session["participants"], key=lambda p: p["id_in_session"])
    ]
    return session["code"], join, links


def _labels(client: TestClient, code: str) -> list[str | None]:
    session = client.get(f"/api/sessions/{code}").json()
    return [p["label"] for p in sorted(session["participants"], key=lambda p: p["id_in_session"])]


def _participant_of(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def test_a_start_link_records_the_label_once(client):
    code, _join, links = _create(client)
    first, second = links[0], links[1]
    client.get(first, params={"participant_label": " kim "}, follow_redirects=False)
    assert _labels(client, code)[:2] == ["kim", None]
    # A started participant keeps their label; a label another participant has is not taken.
    client.get(first, params={"participant_label": "lee"}, follow_redirects=False)
    client.get(second, params={"participant_label": "kim"}, follow_redirects=False)
    assert _labels(client, code)[:2] == ["kim", None]


def test_the_session_wide_link_gives_a_label_its_own_participant(app):
    with TestClient(app) as client:
        code, join, _links = _create(client)
        page = client.get(join, params={"participant_label": "zoe"})
        assert page.status_code == 200
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        assert action == f"{join}?participant_label=zoe"
        zoe = _participant_of(client.post(action, follow_redirects=False))
        other = _participant_of(
            client.post(join, params={"participant_label": "max"}, follow_redirects=False)
        )
        assert other != zoe
    with TestClient(app) as elsewhere:  # another browser, the same label: the same participant
        again = elsewhere.get(join, params={"participant_label": "zoe "}, follow_redirects=False)
        assert _participant_of(again) == zoe
        assert sorted(label for label in _labels(elsewhere, code) if label) == ["max", "zoe"]
