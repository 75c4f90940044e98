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


def _stored_vars(grove, code):
    _summary, details = session_detail(grove.db, code)
    return [p["vars"] for p in details["participants"]]


def test_vars_changed_in_place_after_a_flush_are_saved(app):
    """The JSON change check runs at each flush and at the commit: a change made after a
    flush (a query's autoflush) is compared with what that flush wrote, whether or not
    anything else is pending at the commit."""
    grove = app.state.grove
    code = create_session_now(grove.db, grove.project, "survey", 3).code

    def work(db):
        first, second, third = get_session(db, code).get_participants()
        first.vars["a"] = 1
        get_session(db, code)  # a query: autoflushes the first change
        first.vars["a"] = 2  # in place again, after that flush
        second.vars["b"] = True
        second.label = "L2"  # something else pending at the commit
        db.flush()
        third.vars["c"] = [1]  # in place, after the last flush, nothing else pending

    grove.db.run(work)
    assert _stored_vars(grove, code) == [{"a": 2}, {"b": True}, {"c": [1]}]

    def change_back(db):
        first, second, _third = get_session(db, code).get_participants()
        first.vars["a"] = True  # equal to 1 in Python, but a change
        db.flush()
        second.vars.clear()
        second.vars["b"] = 1  # 1 == True, but stored differently

    grove.db.run(change_back)
    assert _stored_vars(grove, code) == [{"a": True}, {"b": 1}, {"c": [1]}]
