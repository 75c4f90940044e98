"""Draws of one id at once, each in its own unit of work (the API's 2 workers): one draw is
logged, the others are answered as an id drawn before; the study's counts, sequence and RNG
state hold that one draw only."""

from __future__ import annotations

import threading

import pytest

from server.randomization import service
from server.randomization.service import DuplicateParticipant, ensure_study, randomize, verify

CONFIG = dict(treatments=["A", "B"], factors={"sex": ["M", "F"]}, starting_seed=3)


@pytest.fixture
def database(app):
    return app.state.grove.db


@pytest.mark.parametrize("allow_existing", [False, True])
def test_one_id_drawn_at_once_is_logged_once(database, allow_existing):
    with database.transaction() as db:
        ensure_study(db, "once", CONFIG)
        randomize(db, "once", "before", {"sex": "F"})
    start = threading.Barrier(6)
    answers: list[object] = []

    def draw() -> None:
        start.wait()
        try:
            with database.transaction() as db:
                answers.append(
                    randomize(db, "once", "p1", {"sex": "M"}, allow_existing=allow_existing)
                )
        except Exception as exc:  # what each draw met is its result
            answers.append(exc)

    threads = [threading.Thread(target=draw) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    new = [a for a in answers if isinstance(a, service.Randomization) and a.is_new]
    assert len(new) == 1, answers
    others = [a for a in answers if a not in new]
    if allow_existing:
        assert all(
            isinstance(a, service.Randomization) and a.treatment == new[0].treatment for a in others
        ), others
    else:
        assert all(isinstance(a, DuplicateParticipant) for a in others), others
    with database.read() as db:
        study = service.get_study(db, "once")
        assert study.num_assigned == 2
        assert verify(db, "once") == []
