"""oTree's template idioms, played over HTTP through the pages a participant gets.

Expected values are oTree 6's behaviour for the same templates: an included fragment is
inserted as it is; wait pages get ``vars_for_template`` and ``js_vars``; a method named
without parentheses is called; an undefined name is an error naming the template and line.
One deliberate difference: ``js_vars`` and ``|json`` are escaped for ``<script>``, which
oTree's are not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import page_form, parse_forms
from server.config import load_settings
from tests import databases
from tests.conftest import create_demo_session
from tests.form_filling import fill_and_submit

PROJECT = Path(__file__).parent / "projects" / "templates"
HOSTILE = "</script><script>document.title='owned'</script>"


def _client(tmp_path: Path, **environ: str) -> Iterator[TestClient]:
    env = {"DATABASE_URL": databases.database_url(tmp_path), **environ}
    app = create_app(load_settings(PROJECT, env))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.grove.db.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path)


def _start(client: TestClient, config: str) -> list[str]:
    _code, links = create_demo_session(client, config)
    return [client.get(link, follow_redirects=False).headers["location"] for link in links]


def _script_json(html: str, variable: str) -> Any:
    match = re.search(r"var " + variable + r" = (.*?);</script>", html, re.DOTALL)
    assert match, f"no var {variable} in the page"
    return json.loads(match.group(1))


def test_included_fragment_keeps_the_next_button_inside_the_form(client):
    first, _second = _start(client, "pages")
    html = client.get(first).text
    assert html.lower().count("<html") == 1
    assert "These are the instructions, included from a sibling file." in html
    forms = parse_forms(html)
    assert len(forms) == 1
    assert forms[0].has_submit_button()
    response = fill_and_submit(client, first, {"answer": "hello"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("/pages/Wait/2")


def test_wait_page_gets_vars_for_template_and_js_vars(client):
    first, _second = _start(client, "pages")
    wait_url = fill_and_submit(client, first, {"answer": HOSTILE}).headers["location"]
    html = client.get(wait_url).text
    assert '<p id="note">Your partner is still typing</p>' in html
    assert _script_json(html, "js_vars") == {"answer": HOSTILE}


def test_methods_are_called_and_script_values_cannot_end_the_script(client):
    first, second = _start(client, "pages")
    fill_and_submit(client, first, {"answer": HOSTILE})
    results = fill_and_submit(client, second, {"answer": "fine"}).headers["location"]
    html = client.get(results).text
    # payoff 10 points x 0.5 per point + 2.00 fee = $7.00, as oTree shows it.
    assert '<p id="total">$7.00</p>' in html
    assert '<p id="called">$7.00</p>' in html
    assert '<ul id="players"><li>1</li><li>2</li></ul>' in html
    assert '<p id="others">1</p>' in html
    # The partner's text is escaped in HTML and cannot close a <script> in JSON.
    assert HOSTILE not in html
    assert "&lt;/script&gt;" in html
    assert _script_json(html, "fromFilter") == HOSTILE
    assert _script_json(html, "js_vars") == {"partner_answer": HOSTILE, "label": "</b>"}


def test_undefined_name_is_an_error_naming_template_and_line(client, caplog):
    (url,) = _start(client, "broken")
    response = client.get(url)
    assert response.status_code == 500
    assert "Broken.html, line 4" in response.text
    assert "no_such_field" in response.text


def test_undefined_name_in_production_shows_a_clean_page_and_logs(tmp_path, caplog):
    for client in _client(
        tmp_path,
        OTREE_PRODUCTION="1",
        OTREE_ADMIN_PASSWORD="pw",
        OTREE_SECRET_KEY="a-real-secret-for-this-test-of-32-characters",
    ):
        client.post("/login", data={"username": "admin", "password": "pw"})
        (url,) = _start(client, "broken")
        response = client.get(url)
        assert response.status_code == 500
        assert "no_such_field" not in response.text
        assert "Broken.html" not in response.text
    logged = "\n".join(record.getMessage() + str(record.exc_info) for record in caplog.records)
    assert "Broken.html, line 4" in logged


def test_a_template_that_writes_is_an_error_not_a_silent_loss(client):
    (url,) = _start(client, "writes")
    response = client.get(url)
    assert response.status_code == 500
    assert "templates may only read" in response.text
    assert "Participant" in response.text


def test_manual_field_rendering_as_in_otrees_docs(client):
    """{{ form.x }}, {{ for choice in form.x }}, {{ for field in form }} (oTree's forms.rst)."""
    (url,) = _start(client, "manual")
    html = client.get(url).text
    form = page_form(html)
    # Seven bare radio buttons in the scale, the text input alone, no labels of the choices.
    assert [o.value for o in form.choices("pizza")] == ["-3", "-2", "-1", "0", "1", "2", "3"]
    assert form.kind("comment") == "text"
    assert '<label for="id_comment">Anything else?</label>' in html
    response = fill_and_submit(client, url, {"pizza": "-2", "comment": "thin crust"})
    assert response.status_code == 303
    table_url = response.headers["location"]
    html = client.get(table_url).text
    # As oTree's, a field's label prints as its <label> element.
    assert '<th><label for="id_offer_1">Offer 1</label></th>' in html
    assert '<th><label for="id_offer_2">Offer 2</label></th>' in html
    assert [o.value for o in page_form(html).choices("offer_2")] == ["1", "2", "3"]
    assert fill_and_submit(client, table_url, {"offer_1": "3", "offer_2": "1"}).status_code == 303
    grove = client.app.state.grove
    player_cls = grove.project.apps["manual"].player_cls
    with grove.db.read() as db:
        player = db.query(player_cls).one()
        assert (player.pizza, player.comment, player.offer_1, player.offer_2) == (
            -2,
            "thin crust",
            3,
            1,
        )
