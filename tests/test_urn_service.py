"""The urn service: golden sequences through the database, idempotency, frozen configs,
verification, the demo trial app, and concealment."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from server.models.urn import UrnAssignment, UrnStudy
from server.project import load_project
from server.randomization import service
from server.randomization.service import (
    DuplicateParticipant,
    StudyConfigFrozen,
    counts_from_json,
    ensure_study,
    randomize,
    rng_state_from_json,
    verify,
)
from server.randomization.session_urn import prepare_session_study, randomize_participant
from server.sessions import create_session
from tests.conftest import create_demo_session
from tests.test_urn_golden import GOLDEN_FILES, golden_participants, load_golden


@pytest.fixture
def database(app):
    return app.state.grove.db


@pytest.mark.slow  # a subprocess per case, or many draws: seconds each
@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_sequence_through_the_service(database, path):
    case = load_golden(path)
    with database.transaction() as db:
        ensure_study(db, case["name"], case["config"])
    for (participant_id, levels), expected, state in zip(
        golden_participants(case),
        case["expected_trt"],
        case["expected_bg_state_after"],
        strict=True,
    ):
        with database.transaction() as db:
            result = randomize(db, case["name"], participant_id, levels, user="tester")
            assert result.treatment == expected
            stored = service.get_study(db, case["name"])
            assert rng_state_from_json(stored.rng_state) == state
    with database.read() as db:
        assert verify(db, case["name"]) == []


CONFIG = dict(
    treatments=["A", "B", "C"],
    factors={"sex": ["M", "F"], "site": ["1", "2", "3"]},
    starting_seed=7,
)


def test_duplicates_refused_or_returned(database):
    with database.transaction() as db:
        ensure_study(db, "s", CONFIG)
        first = randomize(db, "s", "p1", {"sex": "M", "site": "2"})
    with database.transaction() as db, pytest.raises(DuplicateParticipant):
        randomize(db, "s", "p1", {"sex": "F", "site": "1"})
    with database.transaction() as db:
        again = randomize(db, "s", "p1", {"sex": "F", "site": "1"}, allow_existing=True)
    assert again.treatment == first.treatment
    assert not again.is_new


def test_config_frozen_after_first_assignment(database):
    with database.transaction() as db:
        ensure_study(db, "frozen", CONFIG)
        ensure_study(db, "frozen", {**CONFIG, "w": 2})  # no assignment yet: may change
        randomize(db, "frozen", "p1", {"sex": "M", "site": "1"})
    with database.transaction() as db, pytest.raises(StudyConfigFrozen, match="frozen"):
        ensure_study(db, "frozen", {**CONFIG, "w": 3})


def test_verify_reports_tampering(database):
    with database.transaction() as db:
        ensure_study(db, "t", CONFIG)
        for i in range(5):
            randomize(db, "t", f"p{i}", {"sex": "MF"[i % 2], "site": "123"[i % 3]})
    with database.transaction() as db:
        row = db.scalars(sa.select(UrnAssignment).where(UrnAssignment.sequence == 3)).one()
        row.treatment = "C" if row.treatment != "C" else "A"
    with database.read() as db:
        problems = verify(db, "t")
    assert any("#3" in p for p in problems)


@hyp_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.sampled_from("MF"), st.sampled_from("123")), min_size=1, max_size=25))
def test_counts_equal_the_history(database, arrivals):
    name = f"prop-{uuid.uuid4().hex}"  # not id(arrivals): a freed list's id comes back
    with database.transaction() as db:
        ensure_study(db, name, CONFIG)
        for index, (sex, site) in enumerate(arrivals):
            randomize(db, name, f"p{index}", {"sex": sex, "site": site})
    with database.read() as db:
        study = service.get_study(db, name)
        rows = service.assignments(db, study)
        tally: dict = {}
        for row in rows:
            for factor, level in row.levels.items():
                tally.setdefault((factor, level), [0, 0, 0])[row.treatment_index] += 1
        counts = {k: v for k, v in counts_from_json(study.counts).items() if any(v)}
        assert counts == tally
        assert [r.sequence for r in rows] == list(range(1, len(arrivals) + 1))
        assert len({r.participant_key for r in rows}) == len(arrivals)
        assert verify(db, name) == []


def test_demo_trial_randomizes_on_first_page(client, app):
    _code, links = create_demo_session(client, "randomized_trial")
    treatments = []
    for link in links:
        page = client.get(link)
        assert page.status_code == 200
        treatment = page.text.split('class="grove-treatment">')[1].split("<")[0]
        assert treatment in ("Control", "Intervention")
        assert client.get(link).text.count(treatment) >= 1  # a reload draws nothing new
        treatments.append(treatment)
    with app.state.grove.db.read() as db:
        assert db.scalar(sa.select(sa.func.count(UrnAssignment.id))) == len(links)
        study = db.scalars(sa.select(UrnStudy)).one()
        assert study.num_assigned == len(links)


def test_sessions_naming_one_study_share_its_history(app, settings):
    project = load_project(settings)
    shared = {**project.session_config("randomized_trial")["urn"], "study": "lab-wide"}
    database = app.state.grove.db
    keys = []
    for _ in range(2):
        with database.transaction() as db:
            session = create_session(db, project, "randomized_trial", 2)
            session.config = {**session.config, "urn": shared}
            prepare_session_study(db, session)

            for participant in session.get_participants():
                randomize_participant(db, participant, {"age_group": "65+", "sex": "Female"})
                keys.append(participant.code)
    with database.read() as db:
        study = service.get_study(db, "lab-wide")
        assert study.num_assigned == 4
        assert [r.participant_key for r in service.assignments(db, study)] == keys
        assert verify(db, "lab-wide") == []


def test_no_rng_state_or_seed_in_participant_pages(client):
    _code, links = create_demo_session(client, "randomized_trial")
    html = client.get(links[0]).text
    assert "grove-treatment" in html
    for secret in ("rng", "starting_seed", "bit_generator", "PCG64"):
        assert secret not in html
