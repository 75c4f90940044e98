"""participant.vars, session.vars and session.config keep their Python types (oTree pickles
them: {1: 5} comes back with an int key), with a safe JSON encoding instead of pickle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from server.currency import Currency, RealWorldCurrency
from server.session_reports import create_session_now
from server.sessions import get_session
from server.typed_json import UnstorableValue, decode, encode

VALUES = {
    "int_keys": {1: 5, 2: [3, 4]},
    "tuple": (1, "two", 3.0),
    "tuple_keys": {(1, 2): "pair"},
    "set": {1, 2, 3},
    "frozenset": frozenset({"a"}),
    "when": dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC),
    "day": dt.date(2026, 11, 30),
    "points": Currency(7),
    "money": RealWorldCurrency(2.5),
    "exact": Decimal("1.10"),
    "nan": float("inf"),
    "bytes": b"\x00\x01",
    # Text a participant could type that looks like Grove's tag stays text.
    "lookalike": {"__grove__": "tuple", "v": [1]},
    "nested": [{"a": (1,)}, {2: {3: "x"}}],
}


def _same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b


def test_every_value_comes_back_with_its_type_in_memory():
    _same(decode(encode(VALUES)), VALUES)


def test_vars_and_config_keep_their_types_through_the_database(app):
    grove = app.state.grove
    code = create_session_now(
        grove.db, grove.project, "trust", 2, modified_session_config_fields={"abc": (1, 2)}
    ).code

    def store(db):
        session = get_session(db, code)
        session.vars.update(VALUES)
        session.get_participants()[0].vars.update(VALUES)

    grove.db.run(store)
    with grove.db.read() as db:
        session = get_session(db, code)
        _same(dict(session.vars), VALUES)
        _same(dict(session.get_participants()[0].vars), VALUES)
        assert session.config["abc"] == (1, 2)


def test_a_value_that_cannot_be_stored_is_an_error_naming_the_key(app):
    grove = app.state.grove
    code = create_session_now(grove.db, grove.project, "survey", 1).code

    def store(db):
        get_session(db, code).get_participants()[0].vars["results"] = [1, 2, object()]

    with pytest.raises(UnstorableValue, match=r"participant\.vars\['results'\]\[2\] holds"):
        grove.db.run(store)
    with pytest.raises(UnstorableValue, match="holds a object"):
        encode({"f": object()})


def test_the_api_shows_the_documented_plain_json_form(app, client):
    grove = app.state.grove
    code = create_session_now(grove.db, grove.project, "survey", 1).code

    def store(db):
        get_session(db, code).get_participants()[0].vars.update(VALUES)

    grove.db.run(store)
    shown = client.get(f"/api/sessions/{code}").json()["participants"][0]["vars"]
    assert shown["int_keys"] == {"1": 5, "2": [3, 4]}
    assert shown["tuple"] == [1, "two", 3.0]
    assert shown["set"] == [1, 2, 3]
    assert shown["when"] == "2026-11-30T10:00:00+00:00"
    assert shown["points"] == 7.0
    assert shown["money"] == 2.5
    assert shown["nan"] is None
    assert shown["lookalike"] == {"__grove__": "tuple", "v": [1]}
