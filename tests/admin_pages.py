"""Drive the admin pages as an admin does: open a page, fill one of the forms it renders (by
its ``action``), submit what a browser would, CSRF token included. A test that wants to see a
forged request refused drops or replaces the token of that real submission."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.bots.html_form import HtmlForm, parse_forms
from tests.rest_helpers import BOOKKEEPING_TABLES

KEEP: Any = object()


def form_with_action(html: str, action: str) -> HtmlForm:
    """The page's POST form whose action is ``action`` (the last, for /logout: the page's own
    button comes after the navigation's)."""
    forms = [
        form
        for form in parse_forms(html)
        if form.action == action and (form.attributes.get("method") or "").lower() == "post"
    ]
    actions = [form.action for form in parse_forms(html)]
    assert forms, f"no form posting to {action!r}; the page has {actions}"
    assert len(forms) == 1 or action == "/logout", f"several forms post to {action!r}"
    return forms[-1]


def submit_form(
    client: TestClient,
    page_url: str,
    action: str,
    values: dict[str, Any] | None = None,
    *,
    csrf_token: Any = KEEP,
) -> Any:
    """GET ``page_url``, fill its form posting to ``action`` with ``values`` (text, True/False
    for a box), POST it; ``csrf_token`` None leaves the token out, a string replaces it."""
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code, page.text[:500])
    form = form_with_action(page.text, action)
    pairs = form.submission(values or {})
    if csrf_token is not KEEP:
        pairs = [(name, value) for name, value in pairs if name != "csrf_token"]
        if csrf_token is not None:
            pairs.append(("csrf_token", csrf_token))
    return client.post(action, data=dict(pairs), follow_redirects=False)


def log_in(client: TestClient, password: str, username: str = "admin") -> None:
    """Log in through the login form."""
    response = submit_form(client, "/login", "/login", {"username": username, "password": password})
    assert response.status_code == 303, response.text


def database_snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sorted): equal before and after a request that changed
    nothing."""
    inspector = sa.inspect(engine)
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for name in inspector.get_table_names():
            if name in ("grove_admin_login", "grove_login_attempts"):
                continue  # logins come and go with the test's own logging in
            if name in BOOKKEEPING_TABLES:
                continue
            rows = connection.execute(sa.text(f'SELECT * FROM "{name}"')).all()
            snapshot[name] = sorted((tuple(row) for row in rows), key=repr)
    return snapshot


def delete_session_on_live_server(base_url: str, code: str) -> int:
    """Delete a session as the admin does on a running server (its confirmation form);
    return the answer's status."""
    with httpx.Client(base_url=base_url, timeout=60) as admin:
        page = admin.get(f"/sessions/{code}/delete")
        [form] = [f for f in parse_forms(page.text) if f.action == f"/sessions/{code}/delete"]
        return admin.post(form.action, data=dict(form.submission())).status_code
