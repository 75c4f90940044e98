"""The trust game over HTTP: roles, sequential moves, wait pages in every order, payoffs."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import create_demo_session


def _start(client, link):
    return client.get(link, follow_redirects=False).headers["location"]


@pytest.mark.parametrize("order", list(itertools.permutations([0, 1])))
def test_trust_game_in_every_arrival_order(client, order):
    _code, links = create_demo_session(client, "trust")
    urls = [_start(client, link) for link in links]
    assert urls[0].endswith("/trust/Send/1")  # the trustor decides first
    assert urls[1].endswith("/trust/WaitForTrustor/2")  # the trustee waits
    wait = client.get(urls[1])
    assert "Waiting for the trustor" in wait.text
    status_url = urls[1] + "/status"
    assert client.get(status_url).json() == {"ready": False}

    too_much = client.post(urls[0], data={"sent_amount": "101"}, follow_redirects=False)
    assert "Number must be between 0 and 100 points." in too_much.text  # oTree 6 (WTForms)
    trustor_next = client.post(urls[0], data={"sent_amount": "40"}, follow_redirects=False)
    urls[0] = trustor_next.headers["location"]
    assert client.get(status_url).json() == {"ready": True}

    trustee_page = client.get(urls[1], follow_redirects=False)
    urls[1] = trustee_page.headers["location"]
    assert urls[1].endswith("/trust/SendBack/3")
    page = client.get(urls[1])
    assert "you received 120 points" in page.text
    over = client.post(urls[1], data={"sent_back_amount": "121"}, follow_redirects=False)
    assert "Number must be between 0 and 120 points." in over.text

    # Both reach the results wait page, in the given order; the last one releases both.
    client.get(urls[0], follow_redirects=False)
    urls[1] = client.post(urls[1], data={"sent_back_amount": "50"}, follow_redirects=False).headers[
        "location"
    ]
    for index in order:
        response = client.get(urls[index], follow_redirects=True)
        urls[index] = str(response.url).replace("http://testserver", "")
    for index in range(2):
        response = client.get(urls[index], follow_redirects=True)
        assert "/trust/Results/" in str(response.url)
    trustor = client.get(urls[0], follow_redirects=True).text
    trustee = client.get(urls[1], follow_redirects=True).text
    assert 'class="grove-payoff">110 points' in trustor
    assert 'class="grove-payoff">70 points' in trustee
