"""The Payments tab: after a played trust game, each participant's payoff in points and in
money, the participation fee and the total, as oTree's Payments tab shows them; printable."""

from __future__ import annotations

import re

from tests.admin_pages import submit_form
from tests.conftest import participant_links


def _cells(html: str, participant: str) -> list[str]:
    row = re.search(rf"<tr><td>{participant}</td>(.*?)</tr>", html, re.S)
    assert row, participant
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    ]


def _play_trust(client, links: list[str]) -> None:
    """The trustor sends 40 (tripled to 120), the trustee sends 50 back: 110 and 70 points."""
    urls = [client.get(link, follow_redirects=False).headers["location"] for link in links]
    urls[0] = client.post(urls[0], data={"sent_amount": "40"}, follow_redirects=False).headers[
        "location"
    ]
    urls[1] = client.get(urls[1], follow_redirects=False).headers["location"]
    client.post(urls[1], data={"sent_back_amount": "50"}, follow_redirects=False)
    for url in urls:
        client.get(url, follow_redirects=True)


def test_payments_show_points_money_fee_and_total(client):
    created = submit_form(
        client,
        "/sessions/create?config=trust",
        "/sessions/create",
        {
            "num_participants": "2",
            "config.participation_fee": "5",
            "config.real_world_currency_per_point": "0.01",
        },
    )
    code = created.headers["location"].rsplit("/", 1)[-1]
    _play_trust(client, participant_links(client.get(created.headers["location"]).text))

    page = client.get(f"/SessionPayments/{code}")
    assert page.status_code == 200
    html = page.text
    assert 'class="nav-link active" aria-current="page" href="/SessionPayments/' in html
    assert _cells(html, "P1")[3:] == ["110 points", "$1.10", "$5.00", "$6.10"]
    assert _cells(html, "P2")[3:] == ["70 points", "$0.70", "$5.00", "$5.70"]
    assert '<th class="grove-sum">$11.80</th>' in html
    assert "<th>$5.90</th>" in html  # the mean
    assert "data-grove-print" in html
    assert '<script src="/grove_static/grove-admin.js"></script>' in html
    assert client.get("/grove_static/grove-admin.js").status_code == 200


def test_payments_of_an_unknown_session_are_a_404_page(client):
    response = client.get("/SessionPayments/nosuchcode")
    assert response.status_code == 404
    assert "no session" in response.text
