"""The survey session played to the end over plain HTTP, as a browser would."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import create_demo_session

VALID_DEMOGRAPHICS = {
    "age": "30",
    "gender": "Female",
    "temperature": "-3.5",
    "year_in_school": "Graduate",
}
VALID_ATTITUDES = {
    "savings": "40",
    "satisfaction": "4",
    "likes_experiments": "True",
    "nickname": "Alice",
    "comments": "<script>alert(1)</script>",
}


def _post(client, url, data):
    return client.post(url, data=data, follow_redirects=False)


def test_demo_page_lists_configs(client):
    response = client.get("/demo")
    assert response.status_code == 200
    assert "Survey (every field type) and payment information" in response.text
    assert "A questionnaire that shows every field type" in response.text


def test_survey_played_to_the_end(client, app):
    _code, links = create_demo_session(client, "survey")
    assert len(links) == 1
    start = client.get(links[0], follow_redirects=False)
    assert start.status_code == 303
    page_url = start.headers["location"]
    assert re.fullmatch(r"/p/\w+/survey/Demographics/1", page_url)

    page = client.get(page_url)
    assert page.status_code == 200
    for name in ("age", "gender", "temperature", "year_in_school"):
        assert f'name="{name}"' in page.text

    # Invalid: age out of range, missing gender, a non-number temperature.
    bad = _post(client, page_url, {"age": "7", "temperature": "warm", "year_in_school": "Junior"})
    assert bad.status_code == 200
    assert "Number must be between 13 and 125." in bad.text  # oTree 6 (WTForms) words
    assert "This field is required." in bad.text
    assert "Not a valid float value" in bad.text
    assert 'value="Junior" selected' in bad.text  # the values are kept

    # A negative float is fine: numeric fields get no silent min=0.
    ok = _post(client, page_url, VALID_DEMOGRAPHICS)
    assert ok.status_code == 303
    attitudes_url = ok.headers["location"]
    assert attitudes_url.endswith("/survey/Attitudes/2")

    # Going back to the old page URL only redirects to the current page.
    back = client.get(page_url, follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == attitudes_url
    # Re-posting the old page changes nothing.
    replay = _post(client, page_url, {**VALID_DEMOGRAPHICS, "age": "99"})
    assert replay.status_code == 303
    assert replay.headers["location"] == attitudes_url

    # Skipping ahead is not possible either.
    ahead = client.get(attitudes_url.replace("Attitudes/2", "Results/3"), follow_redirects=False)
    assert ahead.headers["location"] == attitudes_url

    # savings_max caps at 100; nickname_error_message wants letters only; the page-level
    # error_message rejects a contradiction.
    bad = _post(client, attitudes_url, {**VALID_ATTITUDES, "savings": "150", "nickname": "a1"})
    assert "Number must be between 0 and 100." in bad.text
    assert "Use letters only." in bad.text
    bad = _post(
        client,
        attitudes_url,
        {**VALID_ATTITUDES, "likes_experiments": "False", "satisfaction": "5"},
    )
    assert "please check" in bad.text

    ok = _post(client, attitudes_url, VALID_ATTITUDES)
    results_url = ok.headers["location"]
    assert results_url.endswith("/survey/Results/3")
    results = client.get(results_url)
    assert "next year you will be 31" in results.text
    assert "Thank you, Alice" in results.text

    ok = _post(client, results_url, {})
    payment_url = ok.headers["location"]
    assert payment_url.endswith("/payment_info/PaymentInfo/4")
    assert "Payment information" in client.get(payment_url).text

    # The answers are in the per-app table, as typed columns.
    engine = app.state.grove.db.engine
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT age, gender, temperature, savings, satisfaction, likes_experiments, "
                "wants_newsletter, nickname, comments FROM survey_player"
            )
        ).one()
    assert row == (30, "Female", -3.5, 40.0, 4, True, False, "Alice", "<script>alert(1)</script>")


def test_templates_autoescape_participant_input(client):
    _code, links = create_demo_session(client, "survey")
    url = client.get(links[0], follow_redirects=False).headers["location"]
    url = _post(client, url, VALID_DEMOGRAPHICS).headers["location"]
    url = _post(client, url, {**VALID_ATTITUDES, "nickname": "Bob"}).headers["location"]
    bad = _post(client, url.replace("Results/3", "Attitudes/2"), {})
    assert bad.status_code == 303
    page = client.get(url)
    assert "<script>alert(1)</script>" not in page.text


def test_unknown_participant_is_404(client):
    response = client.get("/InitializeParticipant/doesnotexist")
    assert response.status_code == 404


def test_join_link_with_a_damaged_cookie_gets_a_new_one(client):
    """A cookie Grove never gave (300 characters: PostgreSQL's token column holds 64) is
    ignored, not stored."""
    created = client.post(
        "/api/sessions/", json={"session_config_name": "survey", "num_participants": 2}
    ).json()
    join = created["session_wide_url"].split("://", 1)[1].split("/", 1)[1]
    client.cookies.set("grove_browser", "a" * 300)
    response = client.post("/" + join, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/InitializeParticipant/")
    assert len(response.cookies["grove_browser"]) < 64
