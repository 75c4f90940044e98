"""The data export over the API: sessions played by the sample apps' bots, then exported as CSV,
CSV with a byte-order mark and JSON, and checked column by column against what the bots
entered (apps/trust/tests.py, apps/survey/tests.py); incremental pulls with ``since``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import time
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.runner import run_bots
from tests.rest_helpers import HEADERS, REST_KEY, assert_error_shape

# What the trust bots enter: the trustor sends 40 of 100, the trustee sends 50 back of 120.
TRUST = {
    "Trustor": {"id_in_group": 1, "payoff": 110.0},
    "Trustee": {"id_in_group": 2, "payoff": 70.0},
}
TRUST_PAGES = {
    "Trustor": ["Send", "WaitForTrustor", "ResultsWaitPage", "Results"],
    "Trustee": ["WaitForTrustor", "SendBack", "ResultsWaitPage", "Results"],
}


# The headers oTree 6.0.15 wrote for the trust app (``otree test trust --export``, with
# PARTICIPANT_FIELDS = ["treatment"] and the config's num_apples).
OTREE_PARTICIPANT = [
    "participant.id_in_session",
    "participant.code",
    "participant.label",
    "participant._is_bot",
    "participant._index_in_pages",
    "participant._max_page_index",
    "participant._current_app_name",
    "participant._current_page_name",
    "participant.time_started_utc",
    "participant.visited",
    "participant.mturk_worker_id",
    "participant.mturk_assignment_id",
    "participant.payoff",
]
OTREE_SESSION = [
    "session.code",
    "session.label",
    "session.mturk_HITId",
    "session.mturk_HITGroupId",
    "session.comment",
    "session.is_demo",
]
OTREE_WIDE_HEAD = [
    *OTREE_PARTICIPANT,
    "participant.treatment",
    *OTREE_SESSION,
    "session.config.name",
    "session.config.participation_fee",
    "session.config.real_world_currency_per_point",
    "session.config.num_apples",
]
OTREE_WIDE_TRUST = [
    "trust.1.player.id_in_group",
    "trust.1.player.role",
    "trust.1.player.payoff",
    "trust.1.group.id_in_subsession",
    "trust.1.group.sent_amount",
    "trust.1.group.sent_back_amount",
    "trust.1.subsession.round_number",
]
OTREE_TRUST_TABLE = [
    *OTREE_PARTICIPANT,
    *[
        "player.id_in_group",
        "player.role",
        "player.payoff",
        "group.id_in_subsession",
        "group.sent_amount",
        "group.sent_back_amount",
        "subsession.round_number",
    ],
    *OTREE_SESSION,
]


# oTree 6.0.15's page-times row for a participant's start (models/participant.py).
OTREE_START_ROW = {
    "page_index": "0",
    "app_name": "",
    "page_name": "InitializeParticipant",
    "round_number": "1",
    "timeout_happened": "0",
    "is_wait_page": "0",
}


def play(settings: Any, config: str) -> list[str]:
    """Play ``config`` with its bots in the test's database; the session codes (one per case)."""
    results = run_bots(settings, config, database_url=settings.database_url)
    assert all(result.ok for result in results), [result.error for result in results]
    return [result.session_code for result in results]


@pytest.fixture
def keyed(settings):
    return settings.with_changes(rest_key=REST_KEY)


@pytest.fixture
def api(keyed):
    app = create_app(keyed)
    with TestClient(app) as client:
        client.headers.update(HEADERS)
        yield client
    app.state.grove.db.dispose()


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


# oTree writes times in its CSV files as str() of a UTC time: 2026-11-30 13:04:06.828814.
OTREE_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$")


def utc_seconds(text: str) -> float:
    assert OTREE_TIME.match(text), text
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def json_rows(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_since"] == response.headers["grove-next-since"]
    for row in body["rows"]:
        assert list(row) == body["columns"]
    return body["rows"]


def test_trust_exported_as_the_bots_played_it(keyed, api):
    [code] = play(keyed, "trust")
    wide_csv = csv_rows(api.get("/api/export/all_apps_wide"))
    wide_json = json_rows(api.get("/api/export/all_apps_wide?format=json"))
    assert [row["participant.id_in_session"] for row in wide_csv] == ["1", "2"]
    header = list(wide_csv[0])
    assert header[: len(OTREE_WIDE_HEAD)] == OTREE_WIDE_HEAD
    trust_at = header.index("trust.1.player.id_in_group")
    assert header[trust_at : trust_at + len(OTREE_WIDE_TRUST)] == OTREE_WIDE_TRUST
    for text_row, json_row in zip(wide_csv, wide_json, strict=True):
        role = text_row["trust.1.player.role"]
        expected = TRUST[role]
        assert json_row["trust.1.player.role"] == role
        assert json_row["session.code"] == text_row["session.code"] == code
        assert json_row["session.config.name"] == text_row["session.config.name"] == "trust"
        assert json_row["session.config.num_apples"] == 10  # the trust config's parameter
        assert text_row["session.config.num_apples"] == "10"
        assert json_row["trust.1.player.id_in_group"] == expected["id_in_group"]
        assert text_row["trust.1.player.id_in_group"] == str(expected["id_in_group"])
        assert json_row["trust.1.player.payoff"] == expected["payoff"]
        assert text_row["trust.1.player.payoff"] == str(expected["payoff"])
        assert json_row["participant.payoff"] == expected["payoff"]
        assert json_row["trust.1.group.sent_amount"] == 40
        assert text_row["trust.1.group.sent_amount"] == "40.0"
        assert json_row["trust.1.group.sent_back_amount"] == 50
        assert text_row["trust.1.group.sent_back_amount"] == "50.0"
        assert json_row["trust.1.group.id_in_subsession"] == 1
        assert json_row["trust.1.subsession.round_number"] == 1
        assert abs(utc_seconds(text_row["participant.time_started_utc"]) - time.time()) < 120
        started = dt.datetime.fromisoformat(json_row["participant.time_started_utc"])
        assert started.utcoffset() == dt.timedelta(0)  # JSON: ISO 8601 with its zone
        assert json_row["participant.visited"] is True
        assert text_row["participant.visited"] == "1"  # oTree writes booleans as 1 and 0
        assert json_row["participant._current_app_name"] == "payment_info"
        assert json_row["payment_info.1.player.id_in_group"] == expected["id_in_group"]

    # One app's table: one row per player, oTree's column names.
    app_rows = csv_rows(api.get("/api/export/trust"))
    assert list(app_rows[0]) == OTREE_TRUST_TABLE
    assert [(r["player.role"], r["group.sent_amount"], r["player.payoff"]) for r in app_rows] == [
        ("Trustor", "40.0", "110.0"),
        ("Trustee", "40.0", "70.0"),
    ]
    assert {r["session.code"] for r in app_rows} == {code}

    # The trust app's custom_export(players): its header, then its rows.
    custom = api.get("/api/export/trust/custom_export?format=json").json()
    assert custom["columns"][:3] == ["session", "participant_code", "role"]
    assert [(r["role"], r["sent_back_amount"], r["payoff"]) for r in custom["rows"]] == [
        ("Trustor", 50, 110),
        ("Trustee", 50, 70),
    ]

    # Page times: as oTree, a first row for the start (InitializeParticipant, page 0, its
    # time the participant's start), then each completed page once, in order, arrival at the
    # previous completion.
    times = csv_rows(api.get("/api/export/page_times"))
    roles = {r["participant.code"]: r["trust.1.player.role"] for r in wide_csv}
    started = {r["participant.code"]: r["participant.time_started_utc"] for r in wide_csv}
    for participant_code, role in roles.items():
        start, *mine = [r for r in times if r["participant_code"] == participant_code]
        assert {k: start[k] for k in OTREE_START_ROW} == OTREE_START_ROW
        assert start["time_completed_utc"] == started[participant_code]
        assert int(start["epoch_time_completed"]) == int(utc_seconds(started[participant_code]))
        assert start["epoch_time_arrived"] == ""
        assert float(mine[0]["epoch_time_arrived"]) == pytest.approx(
            utc_seconds(started[participant_code]), abs=1e-5
        )
        assert [r["page_name"] for r in mine] == TRUST_PAGES[role]
        assert {r["app_name"] for r in mine} == {"trust"}
        assert {r["round_number"] for r in mine} == {"1"}
        assert {r["timeout_happened"] for r in mine} == {"0"}
        assert [r["is_wait_page"] for r in mine] == [
            "1" if "Wait" in name else "0" for name in TRUST_PAGES[role]
        ]
        for earlier, later in itertools.pairwise(mine):
            completed = utc_seconds(earlier["time_completed_utc"])
            assert float(later["epoch_time_arrived"]) == pytest.approx(completed, abs=1e-5)
            assert float(later["epoch_time_arrived"]) <= utc_seconds(later["time_completed_utc"])
        assert abs(int(mine[-1]["epoch_time_completed"]) - time.time()) < 120


def test_survey_fields_column_by_column_and_the_session_filter(keyed, api):
    enjoys, does_not = play(keyed, "survey")  # the survey bots' two cases: two sessions
    [trust_code] = play(keyed, "trust")
    survey_rows = csv_rows(api.get(f"/api/export/survey?session={enjoys}"))
    assert len(survey_rows) == 1
    [row] = survey_rows
    assert row["session.code"] == enjoys
    assert (row["player.age"], row["player.gender"], row["player.temperature"]) == (
        "30",
        "Female",
        "-2.5",  # a number: not escaped as a formula
    )
    assert (row["player.year_in_school"], row["player.savings"]) == ("Junior", "40.0")
    assert (row["player.satisfaction"], row["player.likes_experiments"]) == ("4", "1")
    assert (row["player.nickname"], row["player.comments"]) == ("Ada", "")
    assert row["player.wants_newsletter"] == "0"  # the box the bots left unticked: False
    assert row["player.crt_score"] == "0"  # the field's initial value

    data = json_rows(api.get(f"/api/sessions/{does_not}/data"))
    assert len(data) == 1
    assert data[0]["survey.1.player.likes_experiments"] is False
    assert data[0]["survey.1.player.temperature"] == -2.5
    assert data[0]["survey.1.player.wants_newsletter"] is False
    assert data[0]["session.code"] == does_not

    everyone = json_rows(api.get("/api/export/all_apps_wide?format=json"))
    assert sorted(r["session.code"] for r in everyone) == sorted(
        [enjoys, does_not, trust_code, trust_code]
    )
    # The survey participants have no trust data: empty cells, not another session's values.
    for r in everyone:
        has_trust = r["session.code"] == trust_code
        assert (r["trust.1.player.id_in_group"] is not None) is has_trust
        assert (r["survey.1.player.age"] == 30) is (not has_trust)

    bom = api.get(f"/api/export/all_apps_wide?format=csv_bom&session={enjoys}")
    assert bom.content.startswith(b"\xef\xbb\xbfparticipant.id_in_session,")
    plain = api.get(f"/api/export/all_apps_wide?session={enjoys}")
    assert bom.content[3:] == plain.content
    assert plain.headers["content-disposition"].startswith('attachment; filename="all_apps_wide_')


def test_since_returns_only_participants_changed_after_the_pull(keyed, api):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    [trust_code] = play(keyed, "trust")
    first = api.get("/api/export/all_apps_wide?format=json").json()
    assert len(first["rows"]) == 2
    cursor = first["next_since"]

    # Nothing changed: nothing returned, in every format and export.
    assert json_rows(api.get(f"/api/export/all_apps_wide?format=json&since={cursor}")) == []
    assert csv_rows(api.get(f"/api/export/all_apps_wide?since={cursor}")) == []
    assert csv_rows(api.get(f"/api/export/trust?since={cursor}")) == []
    assert csv_rows(api.get(f"/api/export/page_times?since={cursor}")) == []

    # A new session: only its participants.
    survey_codes = play(keyed, "survey")
    second = api.get(f"/api/export/all_apps_wide?format=json&since={cursor}")
    assert sorted(r["session.code"] for r in json_rows(second)) == sorted(survey_codes)
    cursor = second.json()["next_since"]

    # A change to a session's vars changes every row of that session (session.* columns),
    # by cursor and by time.
    vars_posted = dt.datetime.now(dt.UTC)
    assert api.post(f"/api/session_vars/{trust_code}", json={"vars": {"x": 1}}).status_code == 200
    third = json_rows(api.get(f"/api/export/all_apps_wide?format=json&since={cursor}"))
    assert sorted(r["participant.id_in_session"] for r in third) == [1, 2]
    assert {r["session.code"] for r in third} == {trust_code}
    posted = vars_posted.isoformat().replace("+00:00", "Z")
    by_time = json_rows(api.get(f"/api/export/all_apps_wide?format=json&since={posted}"))
    assert sorted((r["session.code"], r["participant.id_in_session"]) for r in by_time) == [
        (trust_code, 1),
        (trust_code, 2),
    ]

    # Wall-clock conveniences: epoch seconds and ISO 8601.
    everyone = json_rows(api.get(f"/api/export/all_apps_wide?format=json&since={before:%s}"))
    assert len(everyone) == 4
    iso = before.isoformat().replace("+00:00", "Z")
    assert len(json_rows(api.get(f"/api/export/all_apps_wide?format=json&since={iso}"))) == 4
    future = int(time.time()) + 3600
    assert json_rows(api.get(f"/api/export/all_apps_wide?format=json&since={future}")) == []


def test_export_needs_the_key(keyed):
    app = create_app(keyed)
    with TestClient(app) as client:
        for path in ("/api/export/all_apps_wide", "/api/export/page_times", "/api/export/trust"):
            assert_error_shape(client.get(path), 403)
        assert_error_shape(client.get("/api/sessions/abc/data"), 403)
        assert client.get("/api/export/chat", params={"api_key": REST_KEY}).status_code == 200
    app.state.grove.db.dispose()


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/export/all_apps_wide?format=xlsx", 400, "format"),
        ("/api/export/all_apps_wide?since=yesterday", 400, "since"),
        ("/api/export/all_apps_wide?since=", 400, "since"),
        ("/api/export/all_apps_wide?sesion=x", 400, "sesion"),
        ("/api/export/chat?since=c1", 400, "since"),
        ("/api/export/all_apps_wide?since=c9999999999999999999", 400, "since"),
        ("/api/export/all_apps_wide?since=999999999999", 400, "since"),
        ("/api/export/no_such_app", 404, None),
        ("/api/export/trust/custom_export_nothing", 404, None),
        ("/api/export/page_times/custom_export", 404, None),
        ("/api/export/all_apps_wide?session=nosuchcode", 404, None),
        ("/api/sessions/nosuchcode/data", 404, None),
        ("/api/sessions/nosuchcode/data?session=x", 400, "session"),
    ],
)
def test_bad_export_requests(api, path, status, field):
    body = assert_error_shape(api.get(path), status)
    if field is not None:
        assert body["errors"][0]["field"] == field


def test_empty_database_exports_headers_only(api):
    # (A cursor ahead of an empty database is another database's: tests/test_export_cursors.py.)
    for since in ("c0", "0001-01-01", "9999-12-31T23:59:59%2B14:00"):
        assert json_rows(api.get(f"/api/export/all_apps_wide?format=json&since={since}")) == []
    for table in ("all_apps_wide", "page_times", "chat", "urn_assignments", "survey"):
        response = api.get(f"/api/export/{table}")
        assert response.status_code == 200
        assert response.text.count("\n") == 1  # the header
        assert json_rows(api.get(f"/api/export/{table}?format=json")) == []


def test_urn_log_matches_the_treatments_in_the_wide_export(keyed, api):
    [code] = play(keyed, "randomized_trial")
    wide = json_rows(api.get(f"/api/export/all_apps_wide?format=json&session={code}"))
    treatments = {r["participant.code"]: r["participant.treatment"] for r in wide}
    log = json_rows(api.get(f"/api/export/urn_assignments?format=json&session={code}"))
    assert [r["sequence"] for r in log] == [1, 2, 3, 4]
    assert {r["participant_code"]: r["trt"] for r in log} == treatments
    assert set(treatments.values()) <= {"Control", "Intervention"}
    assert {r["session_code"] for r in log} == {code}
    for row in log:
        assert set(row["levels"]) == {"age_group", "sex"}
    # The app's own copy of the treatment is in its table too.
    trial = json_rows(api.get(f"/api/export/trial?format=json&session={code}"))
    assert {r["participant.code"]: r["player.treatment"] for r in trial} == treatments


def test_chat_export_escapes_formulas_in_csv_only(api):
    created = api.post(
        "/api/sessions", json={"session_config_name": "prisoner", "num_participants": 2}
    )
    code = created.json()["code"]
    detail = api.get(f"/api/sessions/{code}").json()
    participant = detail["participants"][0]["code"]
    page = api.get(f"/InitializeParticipant/{participant}")
    token = re.search(r'data-token="([^"]+)"', page.text).group(1)
    sent = api.post(f"/p/{participant}/chat", json={"token": token, "body": "=1+1 hello"})
    assert sent.status_code == 200, sent.text
    [row] = csv_rows(api.get(f"/api/export/chat?session={code}"))
    assert (row["session_code"], row["participant_code"], row["id_in_session"]) == (
        code,
        participant,
        "1",
    )
    assert row["body"] == "'=1+1 hello"  # a spreadsheet shows it as text, never runs it
    assert abs(float(row["timestamp"]) - time.time()) < 120
    [message] = json_rows(api.get(f"/api/export/chat?format=json&session={code}"))
    assert message["body"] == "=1+1 hello"
    assert message["channel"] == row["channel"]


def test_a_timed_out_page_is_marked_in_page_times(keyed, api):
    [code] = play(keyed, "public_goods")  # player 3 lets the time run out on Contribute
    wide = json_rows(api.get(f"/api/sessions/{code}/data"))
    assert sorted(r["public_goods.1.player.contribution"] for r in wide) == [0, 50, 50]
    assert {r["public_goods.1.group.total_contribution"] for r in wide} == {100}
    by_code = {r["participant.code"]: r["public_goods.1.player.id_in_group"] for r in wide}
    times = csv_rows(api.get(f"/api/export/page_times?session={code}"))
    contribute = {r["participant_code"]: r for r in times if r["page_name"] == "Contribute"}
    assert {by_code[c]: r["timeout_happened"] for c, r in contribute.items()} == {
        1: "0",
        2: "0",
        3: "1",
    }
    assert [r["page_name"] for r in times if by_code[r["participant_code"]] == 3] == [
        "InitializeParticipant",
        "Contribute",
        "ResultsWaitPage",
        "Results",
    ]


def test_a_group_change_returns_every_member_and_no_one_else(keyed, api):
    results = run_bots(keyed, "public_goods", 6, database_url=keyed.database_url)
    assert all(result.ok for result in results), [result.error for result in results]
    start = api.get("/api/export/all_apps_wide?format=json").json()
    groups: dict[int, set[str]] = {}
    for row in start["rows"]:
        group = row["public_goods.1.group.id_in_subsession"]
        groups.setdefault(group, set()).add(row["participant.code"])
    assert sorted(len(members) for members in groups.values()) == [3, 3]

    # An app's code changes one group's field (as after_all_players_arrive does).
    grove = api.app.state.grove
    group_cls = grove.project.apps["public_goods"].group_cls
    with grove.db.transaction() as db:
        group = db.scalars(
            sa.select(group_cls).where(group_cls.round_number == 1, group_cls.id_in_subsession == 2)
        ).one()
        group.individual_share = 77
    changed = json_rows(
        api.get(f"/api/export/all_apps_wide?format=json&since={start['next_since']}")
    )
    assert {r["participant.code"] for r in changed} == groups[2]
    assert {r["public_goods.1.group.individual_share"] for r in changed} == {77}


def test_a_started_participant_without_pages_has_only_the_start_row(keyed, api):
    play(keyed, "trust")  # two participants who completed pages
    created = api.post(
        "/api/sessions/", json={"session_config_name": "trust", "num_participants": 2}
    )
    assert created.status_code in (200, 201), created.text
    fresh = created.json()["code"]
    people = api.get(f"/api/sessions/{fresh}").json()["participants"]
    second = next(p["code"] for p in people if p["id_in_session"] == 2)
    assert api.get(f"/InitializeParticipant/{second}").status_code == 200
    times = csv_rows(api.get("/api/export/page_times"))
    assert [
        (r["participant_code"], r["page_name"]) for r in times if r["session_code"] == fresh
    ] == [(second, "InitializeParticipant")]
    assert [r["page_name"] for r in times].count("InitializeParticipant") == 3
