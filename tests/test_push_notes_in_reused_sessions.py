"""A session reused for many units of work (an async live method's, one unit a step) keeps no
note of the messages it published once each unit is over: on SQLite the commit takes the
notes for the bell; PostgreSQL, which delivers by NOTIFY, makes none (they piled up, one a
publish, for as long as the session lived)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import push
from server.app import create_app
from server.config import load_settings
from tests import databases
from tests.conftest import REPO_ROOT


@pytest.mark.parametrize("backend", databases.BOTH)
def test_a_reused_session_keeps_no_notes_of_what_it_published(tmp_path: Path, backend: str) -> None:
    url = databases.database_url(tmp_path, "notes", backend)
    database = create_app(load_settings(REPO_ROOT, {"DATABASE_URL": url})).state.grove.db
    session = database.writer_session()
    try:
        for step in range(3):
            database.run(lambda db, n=step: push.publish(db, "page:x", f'"{n}"'), session=session)
        assert session.info.get("grove.published") in (None, [])
    finally:
        session.close()
        database.dispose()
