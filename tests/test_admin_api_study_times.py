"""A study's created_at reads as the sessions' times do (ISO 8601 UTC with Z), the same in the
create answer and in every later read: it was 2026-...+00:00 when created and a time with no
zone at all when read back from SQLite, which pandas cannot compare."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app

UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_created_at_is_iso_utc_everywhere(settings):
    app = create_app(settings)
    with app.state.grove.db.transaction() as db:
        headers = {"Authorization": f"Bearer {create_key(db, 'trialist', 'admin')}"}
    config = {"treatments": ["A", "B"], "factors": {"site": ["N", "S"]}}
    try:
        with TestClient(app) as client:
            created = client.post(
                "/admin/api/v1/studies/", json={"name": "Trial", "config": config}, headers=headers
            ).json()
            drawn = client.post(
                "/study_participants",
                params={"study": "My Study", "id": "P1", "age_group": "65+", "sex": "Male"},
                headers=headers,
            )
            assert drawn.status_code == 200, drawn.text
            listed = client.get("/admin/api/v1/studies/", headers=headers).json()
            one = client.get("/admin/api/v1/study/Trial/", headers=headers).json()
    finally:
        app.state.grove.db.dispose()
    times = [created["created_at"], one["created_at"]] + [s["created_at"] for s in listed]
    assert len(times) == 4
    for moment in times:
        assert UTC_Z.match(moment), moment
    assert created["created_at"] == one["created_at"]
