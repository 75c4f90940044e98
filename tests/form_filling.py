"""Fill a participant page's form as a browser would: from the HTML the page renders.

A test names what the participant does (types text, clicks the radio button or option whose
label it reads, ticks a box); the submission is what a browser sends for that, by the rules
in server/bots/html_form.py. Nothing is posted that the page does not offer.
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from server.bots.html_form import HtmlForm, page_form


class Click:
    """Click the radio button or option whose label the participant reads."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return f"Click({self.label!r})"


def entered_values(form: HtmlForm, actions: dict[str, Any]) -> dict[str, str | bool | None]:
    """Turn actions (text, True/False for a box, Click(label)) into what the form receives."""
    entered: dict[str, str | bool | None] = {}
    for name, action in actions.items():
        if isinstance(action, Click):
            matches = [o for o in form.choices(name) if o.label == action.label]
            labels = [o.label for o in form.choices(name)]
            assert len(matches) == 1, (
                f"{name}: no single choice labelled {action.label!r} in {labels}"
            )
            entered[name] = matches[0].value
        else:
            entered[name] = action
    return entered


def fill_and_submit(client: TestClient, url: str, actions: dict[str, Any]) -> Any:
    """GET the page at ``url``, fill its form with ``actions``, POST what a browser would."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    form = page_form(page.text)
    pairs = form.submission(entered_values(form, actions))
    return client.post(form.action or url, data=dict(pairs), follow_redirects=False)
