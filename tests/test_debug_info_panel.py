"""The development server's debug panel under each participant page, as oTree's devserver
shows one (outside production): who the participant is (P<n>, code, label, session), where
(app, round, page), their group and role, and the page's ``vars_for_template``. ``otree
devserver`` turns it on (``GROVE_DEBUG_INFO``, set by the command); production never shows it,
and neither does a server started otherwise."""

from __future__ import annotations

import re
from types import SimpleNamespace

from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import page_form
from server.config import load_settings
from tests.conftest import REPO_ROOT, create_demo_session

PANEL = 'id="grove-debug-info"'


def test_the_debug_panel_shows_the_participant_and_vars_for_template(settings):
    app = create_app(settings.with_changes(debug_info=True))
    with TestClient(app) as client:
        code, links = create_demo_session(client, "trust")
        trustor = client.get(links[0])
        assert PANEL in trustor.text
        panel = trustor.text[trustor.text.index(PANEL) :]
        for shown in (
            "P1",
            "<td>trust</td>",
            "<td>Send</td>",
            "<td>Trustor</td>",
            f"<td>{code}</td>",
        ):
            assert shown in panel, shown
        # The page's form is untouched: the panel is outside it.
        assert page_form(trustor.text).names() == ["timeout_happened", "sent_amount"]

        trustee = client.get(links[1])  # waits for the trustor
        assert PANEL in trustee.text
        pairs = page_form(trustor.text).submission({"sent_amount": "40"})
        sent = client.post(str(trustor.url), data=dict(pairs))
        assert sent.status_code == 200
        send_back = client.get(links[1])
        assert "/trust/SendBack/" in str(send_back.url)
        panel = send_back.text[send_back.text.index(PANEL) :]
        assert re.search(r"<td>tripled_amount</td>\s*<td>120", panel), panel
        assert "<td>Trustee</td>" in panel
    app.state.grove.db.dispose()


def test_no_debug_panel_unless_the_devserver_turns_it_on(client):
    _code, links = create_demo_session(client, "trust")
    assert PANEL not in client.get(links[0]).text


def test_the_devserver_setting_is_off_in_production():
    assert load_settings(REPO_ROOT, {"GROVE_DEBUG_INFO": "1"}).debug_info
    assert not load_settings(REPO_ROOT, {}).debug_info
    production = {
        "GROVE_DEBUG_INFO": "1",
        "OTREE_PRODUCTION": "1",
        "OTREE_SECRET_KEY": "k" * 40,
        "OTREE_ADMIN_PASSWORD": "pw",
        "OTREE_REST_KEY": "r" * 40,
    }
    assert not load_settings(REPO_ROOT, production).debug_info


def test_otree_devserver_serves_the_app_with_the_panel(monkeypatch):
    import uvicorn

    import server.asgi as asgi
    from server.__main__ import main

    served: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: served.append({"app": a[0], **kw}))
    monkeypatch.setenv("GROVE_PROJECT_ROOT", str(REPO_ROOT))
    monkeypatch.setattr(asgi, "load_settings", lambda root, environ: dict(environ))
    monkeypatch.setattr(
        asgi, "create_app", lambda settings: SimpleNamespace(routes=[], env=settings)
    )
    monkeypatch.setattr(asgi, "build_now", lambda routes: None)
    monkeypatch.setattr(asgi, "freeze_startup_objects", lambda: None)
    monkeypatch.setattr(
        "server.cli.server_commands.load_context", _fake_context(monkeypatch), raising=True
    )
    monkeypatch.delenv("GROVE_DEBUG_INFO", raising=False)

    assert main(["devserver", "8123"]) == 0
    [call] = served
    assert call["app"] == "server.asgi:devserver_app"
    assert call["factory"] is True
    # What the devserver's worker builds, and what another server builds.
    assert asgi.devserver_app().env["GROVE_DEBUG_INFO"] == "1"
    assert "GROVE_DEBUG_INFO" not in asgi.app_from_environment().env
    monkeypatch.setenv("GROVE_DEBUG_INFO", "0")
    assert asgi.devserver_app().env["GROVE_DEBUG_INFO"] == "0"


def _fake_context(monkeypatch):
    """A load_context whose database needs no migration (the command's start-up lines)."""
    import server.cli.server_commands as commands

    monkeypatch.setattr(commands, "migrate_database", lambda db, project: [])

    class _Db:
        def dispose(self) -> None:
            pass

    class _Context:
        settings = load_settings(REPO_ROOT, {})
        db = _Db()
        project = None

    return lambda prepare=False: _Context()
