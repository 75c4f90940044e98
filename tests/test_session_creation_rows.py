"""The rows a session's creation writes, every table's, against a stored dump
(tests/data/session_creation_rows.json): changing how creation writes them (bulk INSERTs,
ids) must not change what a session is. Sessions are created through the REST API with the
module-level ``random`` seeded; random codes and timestamps are replaced by placeholders.

To rewrite the dump after a deliberate change of what creation stores:
``GROVE_WRITE_CREATION_DUMP=1 .venv/bin/python -m pytest tests/test_session_creation_rows.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.codes import CODE_ALPHABET, CODE_LENGTH
from server.config import load_settings
from tests import databases
from tests.rest_helpers import BOOKKEEPING_TABLES, HEADERS, REST_KEY

# Columns that hold a moment (some as seconds since the epoch), besides any ``*_at``.
TIME_COLUMNS = {"last_seen", "time_started"}
# SQLite's counter behind the change stamp (PostgreSQL has none), and the database's identity
# (random, written when the tables were made).
SKIPPED_TABLES = {*BOOKKEEPING_TABLES, "grove_change_counter", "grove_database_identity"}
DUMP = Path(__file__).parent / "data" / "session_creation_rows.json"

# A project whose creating_session reaches what oTree documents from it: the players'
# participants and groups, the session's config and vars, participant vars and fields,
# field initials, group_randomly in later rounds.
APP = """
import random

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "made"
    PLAYERS_PER_GROUP = 3
    NUM_ROUNDS = 3


class Subsession(BaseSubsession):
    note = models.StringField(initial="sub")
    draws = models.IntegerField()


class Group(BaseGroup):
    total = models.CurrencyField(initial=0)
    first_code_length = models.IntegerField()


class Player(BasePlayer):
    answer = models.IntegerField(initial=5)
    treatment = models.StringField()
    participant_number = models.IntegerField()
    apples = models.IntegerField()


def creating_session(subsession):
    if subsession.round_number > 1:
        subsession.group_randomly()
    subsession.draws = random.randint(0, 1000)
    session = subsession.session
    session.vars.setdefault("rounds_seen", []).append(subsession.round_number)
    for group in subsession.get_groups():
        group.first_code_length = len(group.get_players()[0].participant.code)
    for player in subsession.get_players():
        participant = player.participant
        player.treatment = random.choice(["red", "blue"])
        player.participant_number = participant.id_in_session
        player.apples = session.config["apples"]
        participant.vars.setdefault("treatments", []).append(player.treatment)
        participant.mood = "calm"
        player.group.total += 1


class Entry(Page):
    form_model = "player"
    form_fields = ["answer"]


page_sequence = [Entry]
"""


def _project(root: Path) -> Path:
    app = root / "apps" / "made"
    app.mkdir(parents=True)
    (root / "settings.py").write_text(
        'PARTICIPANT_FIELDS = ["mood"]\nSESSION_FIELDS = ["weather"]\n'
        'ROOMS = [dict(name="lab", display_name="Lab")]\n'
    )
    (root / "session_configs.py").write_text(
        "SESSION_CONFIGS = [\n"
        '    dict(name="made", app_sequence=["made"], num_demo_participants=3, apples=4,\n'
        "         participation_fee=2.5),\n"
        "]\n"
    )
    (app / "__init__.py").write_text(APP)
    (app / "Entry.html").write_text(
        "{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}"
    )
    return root


def _is_code(value: str) -> bool:
    return len(value) == CODE_LENGTH and all(c in CODE_ALPHABET for c in value)


class _Normalizer:
    """Codes to ``<code N>`` in order of first appearance, times to ``<time>``, JSON text
    to its value (SQLite returns JSON columns as text when tables are reflected)."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dt.datetime | dt.date):
            return "<time>"
        if isinstance(value, str):
            if value[:1] in "[{":
                try:
                    return self(json.loads(value))
                except ValueError:
                    pass
            if _is_code(value):
                return self.codes.setdefault(value, f"<code {len(self.codes)}>")
            for code, name in self.codes.items():  # a code inside a longer text
                value = value.replace(code, name)
            return value
        if isinstance(value, dict):
            return {key: self(item) for key, item in sorted(value.items())}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value


def _column_value(column: str, value: Any, normalize: _Normalizer) -> Any:
    if value is None:
        return None
    if column in TIME_COLUMNS or column.endswith("_at"):
        return "<time>"
    if column == "changed_seq":
        # The change stamp: a counter on SQLite, a transaction id on PostgreSQL; 0 is unstamped.
        return "<stamped>" if value else 0
    return normalize(value)


def _dump(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows (the server's bookkeeping aside), by primary key, normalized."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    normalize = _Normalizer()
    dump: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for name in sorted(metadata.tables):
            if name in SKIPPED_TABLES or name.startswith("alembic"):
                continue
            table = metadata.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(sa.select(table).order_by(*order)).mappings()
            dump[name] = [
                {key: _column_value(key, row[key], normalize) for key in sorted(row.keys())}
                for row in rows
            ]
    return dump


def _create_all(client: TestClient, requests: list[dict[str, Any]]) -> None:
    for number, body in enumerate(requests):
        random.seed(number)
        response = client.post("/api/sessions/", json=body)
        assert response.status_code == 200, response.text


SAMPLE_REQUESTS: list[dict[str, Any]] = [
    {"session_config_name": "trust", "num_participants": 6, "label": "first"},
    {
        "session_config_name": "trust",
        "num_participants": 4,
        "room_name": "econ101",
        "modified_session_config_fields": {"num_apples": 3},
    },
    {"session_config_name": "prisoner", "num_participants": 6},
    {"session_config_name": "public_goods", "num_participants": 6},
    {"session_config_name": "survey", "num_participants": 3},
    {"session_config_name": "live_auction", "num_participants": 8},
]
MADE_REQUESTS: list[dict[str, Any]] = [
    {"session_config_name": "made", "num_participants": 9},
    {"session_config_name": "made", "num_participants": 6, "room_name": "lab"},
]


def _check(name: str, dump: dict[str, Any]) -> None:
    stored = json.loads(DUMP.read_text()) if DUMP.exists() else {}
    if os.environ.get("GROVE_WRITE_CREATION_DUMP"):
        stored[name] = dump
        DUMP.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    assert name in stored, f"no stored dump {name!r}: see the module's docstring"
    expected = stored[name]
    assert sorted(dump) == sorted(expected)
    for table in sorted(expected):
        assert dump[table] == expected[table], table


def _client(settings: Any) -> Any:
    return create_app(settings.with_changes(rest_key=REST_KEY))


def test_sample_sessions_are_created_with_the_stored_rows(settings):
    app = _client(settings)
    try:
        with TestClient(app) as client:
            client.headers.update(HEADERS)
            _create_all(client, SAMPLE_REQUESTS)
            dump = _dump(app.state.grove.db.engine)
    finally:
        app.state.grove.db.dispose()
    assert len(dump["grove_participant"]) == sum(r["num_participants"] for r in SAMPLE_REQUESTS)
    _check("sample", dump)


@pytest.fixture
def made_settings(tmp_path: Path) -> Any:
    root = _project(tmp_path / "project")
    url = databases.database_url(tmp_path, "made")
    return load_settings(root, {"DATABASE_URL": url, "OTREE_REST_KEY": REST_KEY})


def test_creating_session_hooks_write_the_stored_rows(made_settings):
    app = create_app(made_settings)
    try:
        with TestClient(app) as client:
            client.headers.update(HEADERS)
            _create_all(client, MADE_REQUESTS)
            dump = _dump(app.state.grove.db.engine)
    finally:
        app.state.grove.db.dispose()
    participants = dump["grove_participant"]
    assert [p["vars"]["mood"] for p in participants] == ["calm"] * 15
    assert all(len(p["vars"]["treatments"]) == 3 for p in participants)
    _check("made", dump)
