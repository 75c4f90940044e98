"""In-place changes to ``vars`` reach the database whatever path reached the row (oTree's
``for p in subsession.get_players(): p.participant.vars[...] = ...``)."""

from __future__ import annotations

import gc

from server.session_reports import create_session_now, session_detail
from server.sessions import get_session


def test_vars_changed_through_temporaries_are_saved(app):
    grove = app.state.grove
    code = create_session_now(grove.db, grove.project, "survey", 3).code

    def work(db):
        for participant in get_session(db, code).get_participants():
            participant.vars["treatment"] = f"T{participant.id_in_session}"
        gc.collect()  # nothing but the session holds the participants now

    grove.db.run(work)
    _summary, details = session_detail(grove.db, code)
    assert [p["vars"].get("treatment") for p in details["participants"]] == ["T1", "T2", "T3"]


def test_vars_changed_through_other_players_are_saved(app):
    """The after_all_players_arrive idiom: group.get_players() -> p.participant.vars[...]."""
    grove = app.state.grove
    code = create_session_now(grove.db, grove.project, "public_goods", 3).code
    app_spec = grove.project.apps["public_goods"]

    def work(db):
        group = db.query(app_spec.group_cls).first()
        for player in group.get_players():
            player.participant.vars["share"] = player.id_in_group * 10
        get_session(db, code).vars["done"] = True
        gc.collect()

    grove.db.run(work)
    _summary, details = session_detail(grove.db, code)
    assert [p["vars"].get("share") for p in details["participants"]] == [10, 20, 30]
    assert details["vars"] == {"done": True}
