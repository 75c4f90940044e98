"""A per-user key cannot be named as the audit log names the others (the server's key, the
command line, the admin area without a login, an open API's anonymous caller): its changes
would be logged as theirs, and it would share the server key's rate-limit count."""

from __future__ import annotations

import pytest

from server.api_keys import create_key, list_users
from server.errors import InvalidArguments


@pytest.mark.parametrize("user", ["otree-rest-key", "cli", "admin", "anonymous", "CLI"])
def test_a_key_cannot_take_a_name_the_audit_log_gives_to_others(app, user):
    db = app.state.grove.db
    with pytest.raises(InvalidArguments, match="reserved"):
        db.run(lambda session: create_key(session, user))
    assert db.run(list_users) == []


def test_other_names_are_fine(app):
    db = app.state.grove.db
    db.run(lambda session: create_key(session, "cli-robot"))
    assert [key.user for key in db.run(list_users)] == ["cli-robot"]
