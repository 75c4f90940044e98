"""PARTICIPANT_FIELDS and SESSION_FIELDS as oTree documents them (rounds.rst): ``participant.xyz``
is ``participant.vars["xyz"]``, kept across requests and apps, and exported."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.data_export.scope import resolve_scope
from server.data_export.tables import all_apps_wide
from server.errors import ConfigurationError
from server.session_reports import create_session_now
from server.sessions import get_session


def test_a_participant_field_is_stored_and_read_on_a_later_request(app):
    grove = app.state.grove  # the sample settings declare PARTICIPANT_FIELDS = ["treatment"]
    code = create_session_now(grove.db, grove.project, "survey", 2).code

    def set_treatments(db):
        for participant in get_session(db, code).get_participants():
            participant.treatment = f"T{participant.id_in_session}"

    grove.db.run(set_treatments)
    with grove.db.read() as db:
        participants = get_session(db, code).get_participants()
        assert [p.treatment for p in participants] == ["T1", "T2"]
        assert [p.vars["treatment"] for p in participants] == ["T1", "T2"]


def test_unset_field_is_a_key_error_and_an_undeclared_one_an_attribute_error(app):
    grove = app.state.grove
    code = create_session_now(grove.db, grove.project, "survey", 1).code
    with grove.db.transaction() as db:
        participant = get_session(db, code).get_participants()[0]
        with pytest.raises(KeyError, match=r"participant\.treatment has not been set"):
            participant.treatment  # noqa: B018 - reading is the point
        with pytest.raises(AttributeError, match="add it to PARTICIPANT_FIELDS"):
            participant.colour = "red"
        with pytest.raises(AttributeError, match="add it to SESSION_FIELDS"):
            participant.session.budget = 10


def test_participant_fields_are_exported(app):
    grove = app.state.grove
    code = create_session_now(grove.db, grove.project, "survey", 1).code

    def set_treatment(db):
        get_session(db, code).get_participants()[0].treatment = "control"

    grove.db.run(set_treatment)
    with grove.db.read() as db:
        wide = all_apps_wide(db, grove.project, resolve_scope(db, code, None))
    [row] = wide.rows
    assert row[wide.columns.index("participant.treatment")] == "control"


@pytest.mark.parametrize("name", ["payoff", "vars", "code", "label"])
def test_a_reserved_name_is_refused_at_start(settings, name):
    with pytest.raises(ConfigurationError, match=f"PARTICIPANT_FIELDS cannot contain '{name}'"):
        create_app(settings.with_changes(participant_fields=(name,)))


def test_finished_may_be_declared_as_otrees_documentation_asks(settings):
    """oTree's admin.rst ("Payments"): declare a participant field ``finished`` and set
    ``participant.finished = True`` when a participant finishes. Grove's participant has that
    flag already: declaring it is allowed, setting it sets Grove's, and it is exported."""
    app = create_app(settings.with_changes(participant_fields=("finished", "treatment")))
    grove = app.state.grove
    try:
        code = create_session_now(grove.db, grove.project, "survey", 2).code

        def finish_first(db):
            first = get_session(db, code).get_participants()[0]
            assert first.finished is False
            first.finished = True

        grove.db.run(finish_first)
        with grove.db.read() as db:
            assert [p.finished for p in get_session(db, code).get_participants()] == [True, False]
        with grove.db.read() as db:
            wide = all_apps_wide(db, grove.project, resolve_scope(db, code, None))
            column = wide.columns.index("participant.finished")
            assert [row[column] for row in wide.rows] == [True, False]
    finally:
        grove.db.dispose()
