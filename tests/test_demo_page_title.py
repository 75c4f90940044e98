"""oTree's DEMO_PAGE_TITLE and DEMO_PAGE_INTRO_HTML: the demo page's heading and introduction."""

from __future__ import annotations

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from tests import databases


def test_demo_page_title_from_settings_py_is_the_heading_and_is_escaped(tmp_path):
    project = tmp_path / "project"
    (project / "apps").mkdir(parents=True)
    (project / "session_configs.py").write_text("SESSION_CONFIGS = []\n")
    (project / "settings.py").write_text(
        'DEMO_PAGE_TITLE = "Lab <b>demo</b>"\nDEMO_PAGE_INTRO_HTML = "<p>Pick a game.</p>"\n'
    )
    settings = load_settings(project, {"DATABASE_URL": databases.database_url(tmp_path)})
    assert settings.demo_page_title == "Lab <b>demo</b>"
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            page = client.get("/demo").text
        assert "<title>Lab &lt;b&gt;demo&lt;/b&gt;</title>" in page
        assert "<h1>Lab &lt;b&gt;demo&lt;/b&gt;</h1>" in page
        # The introduction is HTML the experimenter wrote, shown as HTML (oTree's rule).
        assert "<p>Pick a game.</p>" in page
    finally:
        app.state.grove.db.dispose()


def test_demo_page_title_defaults_to_demo(client):
    assert "<h1>Demo</h1>" in client.get("/demo").text
