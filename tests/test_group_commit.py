"""Group commit on SQLite (server/db.py, GROUP COMMIT): writers of one process that queue for
the write lock share one transaction and one COMMIT, each in its own savepoint. A unit that
fails is rolled back alone; a batch whose COMMIT does not reach the database fails every unit
of it, and none is acknowledged."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import commit_bell, push
from server import db as db_module
from server.app import create_app
from server.config import load_settings
from server.db import _Ticket
from server.errors import DatabaseUnavailable
from server.models.export_log import ChangeCounter
from server.models.rate_limits import ApiRequestCount
from server.session_reports import create_session_now
from server.sessions import get_participant, get_session
from tests import databases
from tests.conftest import REPO_ROOT
from tests.test_database_failures import remove_database_files

pytestmark = pytest.mark.sqlite


class Refused(Exception):
    """A unit of work's own failure."""


@pytest.fixture
def database(tmp_path):
    url = databases.database_url(tmp_path, "group", databases.SQLITE)
    app = create_app(load_settings(REPO_ROOT, {"DATABASE_URL": url}))
    database = app.state.grove.db
    yield database
    database.dispose()


def insert(name: str, fail: bool = False) -> Callable[[Session], None]:
    def work(db: Session) -> None:
        db.add(ApiRequestCount(key_user=name, window_start=0, count=1))
        db.flush()
        if fail:
            raise Refused(name)

    return work


def run_in_one_batch(
    database, units: list[Callable[[Session], None]]
) -> tuple[list[object], threading.Event, list[threading.Thread]]:
    """Run ``units`` in threads: the first leads and waits until the others have queued."""
    outcomes: list[object] = [None] * len(units)
    release = threading.Event()

    def first(db: Session) -> None:
        try:
            units[0](db)
        finally:  # a failing first unit too holds the batch until the others have queued
            assert release.wait(10)

    def call(index: int, work: Callable[[Session], None]) -> None:
        try:
            database.run(work)
            outcomes[index] = "ok"
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=call, args=(0, first))]
    threads[0].start()
    while not database._leading:
        time.sleep(0.001)
    for index, work in enumerate(units[1:], start=1):
        threads.append(threading.Thread(target=call, args=(index, work)))
        threads[-1].start()
        while len(database._pending) < index:
            time.sleep(0.001)
    return outcomes, release, threads


def names(database) -> list[str]:
    with database.read() as db:
        return sorted(db.scalars(sa.select(ApiRequestCount.key_user)))


def test_queued_writers_share_one_commit_and_a_failing_one_is_rolled_back_alone(database):
    before = database.batches_committed
    outcomes, release, threads = run_in_one_batch(
        database, [insert("a"), insert("b", fail=True), insert("c")]
    )
    assert names(database) == []  # nothing is visible before the batch commits
    release.set()
    for thread in threads:
        thread.join(10)
    assert outcomes[0] == outcomes[2] == "ok"
    assert isinstance(outcomes[1], Refused)
    assert names(database) == ["a", "c"]
    assert database.batches_committed == before + 1
    # A unit whose own write breaks a constraint fails alone too.
    outcomes, release, threads = run_in_one_batch(database, [insert("d"), insert("a"), insert("e")])
    release.set()
    for thread in threads:
        thread.join(10)
    assert outcomes[0] == outcomes[2] == "ok"
    assert isinstance(outcomes[1], sa.exc.IntegrityError)
    assert names(database) == ["a", "c", "d", "e"]


def test_a_failing_leader_is_rolled_back_alone_and_the_queued_units_commit(database):
    # The batch's first unit runs in its transaction without a savepoint: its failure rolls
    # back that transaction (its writes alone) and the queued units run in a new one, in
    # the same batch.
    before = (database.batches_committed, database.units_in_batches)
    outcomes, release, threads = run_in_one_batch(
        database, [insert("a", fail=True), insert("b"), insert("c")]
    )
    release.set()
    for thread in threads:
        thread.join(10)
    assert isinstance(outcomes[0], Refused)
    assert outcomes[1] == outcomes[2] == "ok"
    assert names(database) == ["b", "c"]
    assert (database.batches_committed, database.units_in_batches) == (before[0] + 1, before[1] + 3)
    # A leader whose own write breaks a constraint, and a queued unit that fails too.
    outcomes, release, threads = run_in_one_batch(
        database, [insert("b"), insert("d", fail=True), insert("e")]
    )
    release.set()
    for thread in threads:
        thread.join(10)
    assert isinstance(outcomes[0], sa.exc.IntegrityError)
    assert isinstance(outcomes[1], Refused)
    assert outcomes[2] == "ok"
    assert names(database) == ["b", "c", "e"]
    # A leader alone: its failure stores nothing, and the next unit leads a fresh batch.
    with pytest.raises(Refused):
        database.run(insert("f", fail=True))
    database.run(insert("g"))
    assert names(database) == ["b", "c", "e", "g"]


def test_a_batch_committed_into_a_deleted_file_fails_every_unit(database):
    database.run(insert("first"))
    path = database.sqlite_path
    outcomes, release, threads = run_in_one_batch(database, [insert("a"), insert("b"), insert("c")])
    remove_database_files(path)
    release.set()
    for thread in threads:
        thread.join(10)
    assert all(isinstance(outcome, DatabaseUnavailable) for outcome in outcomes), outcomes
    assert "was deleted" in str(outcomes[1])


def test_a_batch_that_breaks_off_before_its_commit_fails_the_units_that_ran_in_it(database):
    # The leader's bookkeeping between units fails (the process lock's file cannot be written):
    # the batch is never committed, so no unit that ran in it may be acknowledged.
    outcomes, release, threads = run_in_one_batch(database, [insert("a"), insert("b"), insert("c")])
    process_lock = database._sqlite_process_lock

    def broken_disk() -> None:
        raise OSError(5, "Input/output error")

    process_lock.mark_progress = broken_disk
    try:
        release.set()
        for thread in threads:
            thread.join(10)
    finally:
        del process_lock.mark_progress
    assert not any(thread.is_alive() for thread in threads)
    stored = names(database)
    for name, outcome in zip("abc", outcomes, strict=True):
        assert outcome != "ok" or name in stored, (name, outcomes, stored)
    assert isinstance(outcomes[1], DatabaseUnavailable), outcomes


def test_a_writer_interrupted_while_it_queues_leaves_the_queue(database, monkeypatch):
    # KeyboardInterrupt (or any exception) in a thread waiting for its turn: the batch must not
    # wait for its unit forever, holding the write lock.
    class Interrupted(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            raise KeyboardInterrupt

    made: list[_Ticket] = []

    class InterruptedTicket(_Ticket):
        def __init__(self) -> None:
            super().__init__()
            self.turn = Interrupted()
            made.append(self)

    outcomes, release, threads = run_in_one_batch(database, [insert("a")])
    monkeypatch.setattr(db_module, "_Ticket", InterruptedTicket)
    with pytest.raises(KeyboardInterrupt):
        database.run(insert("b"))
    monkeypatch.undo()
    release.set()
    threads[0].join(5)
    alive = threads[0].is_alive()
    for ticket in made:  # unblock a hung leader before failing
        ticket.finished.set()
    threads[0].join(5)
    assert not alive
    assert outcomes == ["ok"]
    database.run(insert("c"))
    assert names(database) == ["a", "c"]


def publish(channel: str) -> Callable[[Session], None]:
    def work(db: Session) -> None:
        push.publish(db, channel, '{"type": "check"}')

    return work


def test_a_batch_that_published_rings_the_bell_once_before_any_unit_returns(database, monkeypatch):
    """One ring wakes every hub for the whole batch's messages (each unit ringing again
    only cost CPU: a ring resolved the path, listed the folder and made a socket); it
    rings after the COMMIT and before any unit of it is acknowledged."""
    rings: list[list[object]] = []
    carried: list[list[str]] = []
    outcomes: list[object] = []
    real_ring = commit_bell.ring

    def counted_ring(path, messages=None) -> None:
        rings.append(list(outcomes))  # the units acknowledged when it rang
        carried.append([channel for _id, channel, _body, _at in messages or ()])
        real_ring(path, messages)

    monkeypatch.setattr(db_module.commit_bell, "ring", counted_ring)
    outcomes, release, threads = run_in_one_batch(
        database, [publish("page:a"), insert("b"), publish("page:c"), publish("page:d")]
    )
    release.set()
    for thread in threads:
        thread.join(10)
    assert outcomes == ["ok"] * 4
    assert rings == [[None] * 4]
    assert carried == [["page:a", "page:c", "page:d"]]  # the ring carries the batch's messages
    # A batch whose units stored no push message does not ring.
    outcomes, release, threads = run_in_one_batch(database, [insert("e"), insert("f")])
    release.set()
    for thread in threads:
        thread.join(10)
    assert outcomes == ["ok", "ok"]
    assert len(rings) == 1


def _labelled(code: str, label: str, fail: bool = False) -> Callable[[Session], None]:
    """A unit that changes a participant's exported data (their label): stamped."""

    def work(db: Session) -> None:
        get_participant(db, code).label = label
        db.flush()
        if fail:
            raise Refused(label)

    return work


def _stamps(database, codes: list[str]) -> tuple[list[int | None], int]:
    with database.read() as db:
        numbers = [get_participant(db, code).changed_seq for code in codes]
        counter = db.scalar(sa.select(ChangeCounter.value).where(ChangeCounter.id == 1))
    return numbers, counter


def test_the_units_of_a_batch_share_one_change_number_and_a_rolled_back_bump_is_taken_again(
    database,
):
    """One transaction, one number (server/change_sequence.py): the first unit to stamp
    bumps the counter, the others of the batch reuse its number without a statement. When
    the unit that bumped is rolled back (its savepoint, or the leader's whole transaction),
    the next one bumps again, so every stored number is one the counter reached: the
    ``?since=`` cursor (the counter) is exact."""
    project = database.info["project"]
    session_code = create_session_now(database, project, "survey", 6).code
    with database.read() as db:
        codes = [p.code for p in get_session(db, session_code).get_participants()]
    database.run(_labelled(codes[5], "first"))  # the counter's row exists from here on
    _numbers, before = _stamps(database, codes)
    bumps: list[str] = []
    sa.event.listen(
        database.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: (
            bumps.append(statement) if statement.startswith("UPDATE grove_change_counter") else None
        ),
    )
    # The leader bumps and fails: the batch's transaction is rolled back and begun again.
    # The second unit bumps in its savepoint and fails; the third bumps, the fourth reuses.
    outcomes, release, threads = run_in_one_batch(
        database,
        [
            _labelled(codes[0], "a", fail=True),
            _labelled(codes[1], "b", fail=True),
            _labelled(codes[2], "c"),
            _labelled(codes[3], "d"),
        ],
    )
    release.set()
    for thread in threads:
        thread.join(10)
    assert [isinstance(o, Refused) for o in outcomes[:2]] == [True, True]
    assert outcomes[2:] == ["ok", "ok"]
    numbers, counter = _stamps(database, codes[:4])
    assert counter == before + 1
    assert numbers[2:] == [counter, counter]
    assert numbers[0] is None or numbers[0] <= before
    assert len(bumps) == 3
    # The next batch takes the next number, once.
    bumps.clear()
    outcomes, release, threads = run_in_one_batch(
        database, [_labelled(codes[4], "e"), _labelled(codes[5], "f")]
    )
    release.set()
    for thread in threads:
        thread.join(10)
    assert outcomes == ["ok", "ok"]
    numbers, counter = _stamps(database, codes[4:])
    assert numbers == [before + 2, before + 2]
    assert counter == before + 2
    assert len(bumps) == 1


_REQUEST_NAME: contextvars.ContextVar[str] = contextvars.ContextVar("request_name")


def test_a_queued_unit_sees_its_own_threads_context_and_its_own_session(database):
    """The batch's leader runs a unit queued through ``Database.run`` itself: the unit still
    sees the context variables of the thread that queued it (an app's, or Grove's
    ``current_unit``, which is its own session), and what it returns or raises reaches that
    thread."""
    seen: dict[str, tuple[str, bool]] = {}

    def noting(name: str, fail: bool = False) -> Callable[[Session], str]:
        def work(db: Session) -> str:
            seen[name] = (_REQUEST_NAME.get("none"), db_module.current_unit() is db)
            insert(name, fail)(db)
            return f"stored {name}"

        return work

    answers: dict[str, object] = {}

    def call(name: str, fail: bool) -> None:
        _REQUEST_NAME.set(f"request {name}")
        try:
            answers[name] = database.run(noting(name, fail))
        except Exception as error:
            answers[name] = error

    _outcomes, release, threads = run_in_one_batch(database, [insert("a")])
    for index, (name, fail) in enumerate([("b", False), ("c", True), ("d", False)], start=1):
        threads.append(threading.Thread(target=call, args=(name, fail)))
        threads[-1].start()
        while len(database._pending) < index:
            time.sleep(0.001)
    release.set()
    for thread in threads:
        thread.join(10)
    assert seen == {name: (f"request {name}", True) for name in "bcd"}
    assert answers["b"] == "stored b"
    assert answers["d"] == "stored d"
    assert isinstance(answers["c"], Refused)
    assert names(database) == ["a", "b", "d"]


def test_a_queued_transaction_block_runs_in_its_own_thread_in_the_same_batch(database):
    """``Database.transaction`` blocks are the caller's code: queued, each runs in its own
    thread when its turn comes, between units the leader runs for ``Database.run``, all in
    one COMMIT; a block that fails is rolled back alone."""
    before = database.batches_committed
    threads_seen: dict[str, int] = {}

    def in_block(name: str, fail: bool = False) -> Callable[[], None]:
        def block() -> None:
            with database.transaction() as db:
                threads_seen[name] = threading.get_ident()
                insert(name, fail)(db)

        return block

    outcomes: dict[str, object] = {}

    def call(name: str, work: Callable[[], None]) -> None:
        try:
            work()
            outcomes[name] = "ok"
        except Exception as error:
            outcomes[name] = error

    _first, release, threads = run_in_one_batch(database, [insert("a")])
    queued: list[tuple[str, Callable[[], None]]] = [
        ("b", in_block("b")),
        ("c", lambda: database.run(insert("c"))),
        ("d", in_block("d", fail=True)),
    ]
    for index, (name, work) in enumerate(queued, start=1):
        threads.append(threading.Thread(target=call, args=(name, work)))
        threads[-1].start()
        while len(database._pending) < index:
            time.sleep(0.001)
    release.set()
    for thread in threads:
        thread.join(10)
    assert outcomes["b"] == outcomes["c"] == "ok"
    assert isinstance(outcomes["d"], Refused)
    assert threads_seen["b"] == threads[1].ident
    assert names(database) == ["a", "b", "c"]
    assert database.batches_committed == before + 1
