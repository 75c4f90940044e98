"""Text no database stores fails where app code assigns it, or is a 400 at the API edge."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.session_reports import create_session_now


def test_app_code_assigning_a_nul_to_a_text_field_fails_at_the_assignment(app):
    grove = app.state.grove
    code = create_session_now(grove.db, grove.project, "survey", 1).code
    player_cls = grove.project.apps["survey"].player_cls
    with grove.db.transaction() as db:
        player = db.scalars(sa.select(player_cls)).one()
        with pytest.raises(ValueError, match=r"Player.nickname cannot hold a NUL character"):
            player.nickname = "Ann\x00"
        player.nickname = "Ann"  # a storable text is kept as it is
    with grove.db.read() as db:
        assert db.scalars(sa.select(player_cls.nickname)).one() == "Ann"
    assert code


def test_an_urn_id_longer_than_its_column_is_a_400(client):
    created = client.post(
        "/api/sessions/", json={"session_config_name": "randomized_trial", "num_participants": 4}
    ).json()
    response = client.post(
        "/study_participants",
        params={"study": created["code"], "id": "x" * 256, "age_group": "18-40", "sex": "Male"},
    )
    assert response.status_code == 400
    assert "at most 255 characters" in response.json()["message"]
