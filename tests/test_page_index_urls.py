"""A page URL's index is a small number: anything else is the participant's 404 (HTML, or JSON
for the wait page's status URL), never a 500. An attack found a 500 for 4,301 digits, which
int() refuses to read (Python's int_max_str_digits)."""

from __future__ import annotations

import pytest

from tests.conftest import create_demo_session

BAD_INDEXES = ["1" * 4301, "1" * 10, "²", "\u0661", "-1", "1.0", "0x1", "%20"]


@pytest.mark.parametrize("index", BAD_INDEXES)
def test_a_page_url_whose_index_is_no_small_number_is_a_404(client, index):
    _session, links = create_demo_session(client, "survey")
    page_url = client.get(links[0], follow_redirects=False).headers["location"]
    base = page_url.rsplit("/", 1)[0]
    shown = client.get(f"{base}/{index}")
    assert shown.status_code == 404, shown.text[:200]
    assert "text/html" in shown.headers["content-type"]
    posted = client.post(f"{base}/{index}", data={"age": "30"})
    assert posted.status_code == 404
    for query in ("", "?wait=1"):
        status = client.get(f"{base}/{index}/status{query}")
        assert status.status_code == 404
        assert status.json()["ok"] is False
    assert client.get(page_url).status_code == 200  # the real page is untouched


def test_the_page_index_url_still_leads_to_the_page(client):
    _session, links = create_demo_session(client, "survey")
    page_url = client.get(links[0], follow_redirects=False).headers["location"]
    assert page_url.rsplit("/", 1)[1].isdigit()
    assert 'name="age"' in client.get(page_url).text
