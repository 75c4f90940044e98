"""Helpers of the admin tab tests: a participant's browser that fills the pages' forms, a
public_goods session made through the admin's form, the Monitor's JSON, and its "advance"."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.admin_pages import form_with_action, submit_form
from tests.conftest import participant_links


class Player:
    """One participant's browser: follows their start link, fills their pages' forms."""

    def __init__(self, client: TestClient, link: str) -> None:
        self.client = client
        self.url = link

    def go(self) -> str:
        """Open the current URL, following redirects; return the page's HTML."""
        response = self.client.get(self.url, follow_redirects=True)
        assert response.status_code == 200, response.text
        self.url = str(response.url.path)
        return response.text

    def contribute(self, amount: str) -> None:
        html = self.go()
        form = form_with_action(html, self.url)
        response = self.client.post(
            self.url,
            data=dict(form.submission({"contribution": amount})),
            follow_redirects=False,
        )
        assert response.status_code in (302, 303), response.text
        self.url = response.headers["location"]


def create_public_goods(client: TestClient) -> tuple[str, list[str]]:
    """A public_goods session of 3 made with the admin's form: its code and start links."""
    created = submit_form(
        client,
        "/sessions/create?config=public_goods",
        "/sessions/create",
        {"num_participants": "3"},
    )
    assert created.status_code == 303, created.text
    code = created.headers["location"].rsplit("/", 1)[-1]
    return code, participant_links(client.get(created.headers["location"]).text)


def monitor(client: TestClient, code: str) -> dict[str, Any]:
    """The Monitor's JSON, as grove-monitor.js reads it."""
    response = client.get(f"/SessionMonitor/{code}/data")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def by_label(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Monitor's participants by their name on the page (P1, P2...)."""
    return {f"P{p['id_in_session']}": p for p in data["participants"]}


def advance(client: TestClient, code: str, *participant_codes: str) -> Any:
    """Tick these participants on the Monitor and submit its "advance" form."""
    return submit_form(
        client,
        f"/SessionMonitor/{code}",
        f"/SessionMonitor/{code}/advance",
        {f"advance:{c}": True for c in participant_codes},
    )
