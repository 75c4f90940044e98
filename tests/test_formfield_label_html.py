"""A field's label written by the experimenter, in the model (``label="..."``) or as a string
in the template (``{{ formfield 'x' label='...' }}``), is HTML, as in oTree: bold or italic
words show as such. A label taken from an expression (``label=said``) is a value and is
escaped, as every ``{{ expression }}`` is (README, "What differs from oTree").

Expected labels are oTree 6.0.15's, from ``otree test labels`` on ``tests/projects/labels``
(its bot read each ``<label for="id_...">`` of the page): ``Say <b>hi</b> & go``,
``How do you <i>feel</i> & why?`` (and ``<u>typed</u>`` from the expression, unescaped there).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.config import Settings, load_settings
from tests import databases
from tests.conftest import copied_project, create_demo_session

PROJECT = Path(__file__).resolve().parent / "projects" / "labels"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    folder = tmp_path / "labels"
    copied_project(PROJECT, folder)
    return load_settings(folder, {"DATABASE_URL": databases.database_url(tmp_path)})


def _labels(html: str) -> dict[str, str]:
    found = re.findall(r'<label[^>]*for="id_(\w+)"[^>]*>(.*?)</label>', html, re.S)
    return {name: text.strip() for name, text in found}


def test_labels_the_experimenter_wrote_are_html(client: TestClient) -> None:
    _code, [link] = create_demo_session(client, "labels")
    page = client.get(link, follow_redirects=True)
    assert page.status_code == 200, page.text
    labels = _labels(page.text)
    assert labels["answer"] == "Say <b>hi</b> & go"
    assert labels["mood"] == "How do you <i>feel</i> & why?"
    assert labels["echo"] == "&lt;u&gt;typed&lt;/u&gt;"  # a value: escaped (Grove's rule)
