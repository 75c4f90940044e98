"""Live pages (oTree's ``live_method``): a message from a page's ``liveSend``, run as one unit
of work, its answers delivered to the addressed players' open pages.

``send_live_message`` is the use case behind a live page's WebSocket; ``call_live_method``
is what bots' ``call_live_method(method, ...)`` runs. Both lock in the LOCK ORDER of
``server/db.py`` (the player's group, then the participant), run the page's ``live_method``
inside that unit of work (``player.group``, ``participant``, ``session`` read and write
there), and store the answers with ``server.push.publish_selected`` in the same transaction: the
live method's writes and its messages commit together, and a live method that raises
writes and sends nothing.

The return value addresses players of the sender's group as oTree's does: ``{id_in_group:
data}``, ``{0: data}`` for the whole group; a key that is not a member's id_in_group (or 0
beside other keys) is an error, so nothing ever reaches a player outside the group. Each
answer goes to the recipient's channel for the sender's page (``live_channel``): a member on
another page does not get it (as in oTree).

An ``async def`` live method that ``yield``s its answers (oTree 6's async generator live
method, meant for web APIs such as an LLM's, whose answer may take seconds) runs step by
step. A step (its code up to the next ``yield``) runs with no lock held, so its awaits hold
up no other participant: what it reads is read as a page GET reads, and what it changes on
its objects (fields, ``ExtraModel.create``/``delete``) is taken when it yields and set
again in that step's unit of work, which locks the sender (LOCK ORDER), reads afresh, stores
the changes and the answer together, so each answer is delivered as it is yielded, not when
the method ends. As in oTree, one participant's async live methods run one at a time (a
message from a reloaded page waits for the method its first copy started): a receipt row
(RUNNING_KEY) says whose turn it is, on every worker, stamped at each step, taken over by
the next message once older than a step may last. As in oTree, two such methods of
different participants changing the same object (the group) at once may overwrite each
other's changes ("race conditions", oTree's documentation). A falsy
answer ends the method (as in oTree); a step that raises keeps what the steps before it
committed. An ``async def`` without ``yield`` is refused, as oTree refuses it.

Every async live method of a process runs on one event loop (``_method_loop``), as oTree runs
them all on its server's loop: a web API's client made once for the app (oTree's
documentation makes ``AsyncOpenAI(...)`` at module level) keeps its connections on that loop
from one message to the next. A step's code that blocks (``time.sleep``, a synchronous web
request) therefore holds up the other participants' async live methods, as in oTree.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import inspect
import json
import logging
import os
import threading
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from server import flow, player_cache, push
from server.db import Database, dialect_insert, in_unit, lock_ids_in_order, note_rows_held
from server.errors import DatabaseBusy, DatabaseUnavailable, GroveError, ParticipantNotFound
from server.json_data import safe_json
from server.models.base import TracksJsonVars, flag_changed_json, stored_json
from server.models.core import Participant
from server.models.push import LiveReceipt
from server.participant_pages import lock_participant, lock_participant_in_scope
from server.project import AppSpec, PageEntry, Project
from server.sessions import get_participant

logger = logging.getLogger("grove.live")

# LiveResult's status when a scope hint was not the page's scope (never returned).
_STALE_HINT = "stale_hint"
# LiveResult's status when the participant's async live method is running (never returned).
_BUSY = "busy"
# The receipt key of a participant's running async live method (the participant's turn to
# run one, taken in the message's first unit of work); no page's message id starts so.
RUNNING_KEY = "grove:async-live-method"
# A step stored this long (seconds) after its turn was last stamped stamps it again (a
# streamed answer's many short steps stamp it once every so often, not each).
TURN_STAMP_SECONDS = 10.0
# How often a message that waits for the participant's running async live method looks
# whether it has ended, in seconds.
TURN_POLL_SECONDS = 0.05
# Tries to give a participant's turn back when the database fails (``_end_turn``), and the
# seconds between them.
END_TURN_ATTEMPTS = 10
END_TURN_RETRY_SECONDS = 1.0
# The most characters a page's message id may have (the client's ids are far shorter).
MAX_MESSAGE_KEY = 64
# The longest one step of an async live method (its code up to the next ``yield``) may run,
# in seconds. A step holds no lock nor thread, but its method keeps the participant's turn
# and page: one that awaits longer is cancelled and fails as if it had raised (its changes
# are not stored, the answers of earlier steps stay). Long enough for a language model's
# answer.
ASYNC_STEP_SECONDS = 120.0


class LiveMethodError(GroveError):
    """A live method that cannot be run, or whose return value is not oTree's shape."""


@dataclass(frozen=True)
class LiveResult:
    """What became of a page's live message.

    ``ran``: the live method ran (``return_value`` is what it returned); ``duplicate``: a
    copy with the same id ran before, nothing ran now; ``not_on_page``: the participant is
    not on that page (or it has no live method), nothing ran (oTree ignores such messages).
    ``scope``: (model, id) of the group (or subsession) the page counts in, as locked, when
    the message reached the page's live method (give it as the next message's
    ``scope_hint``).
    """

    status: str
    return_value: Any = None
    scope: tuple[Any, int] | None = None
    # An async live method's steps still to run, when the caller asked to run them itself
    # (``send_live_message(steps_later=True)``): ``await later.finish()`` for the result.
    later: _LaterSteps | None = dataclasses.field(default=None, repr=False, compare=False)


def live_channel(code: str, page_index: int) -> str:
    """The push channel of one participant's live page."""
    return f"live:{code}:{page_index}"


def live_method_of(project: Project, entry: PageEntry) -> Callable[[Any, Any], Any] | None:
    """The page's live method as a function ``(player, data)``, or None if it has none.

    ``live_method`` is a function (an async generator function too), or (oTree 5, oTree
    Studio) the name of a Player method or of a function in the app's module. Raises
    LiveMethodError for a name that is neither, and for an ``async def`` without ``yield``.
    """
    method = getattr(entry.page_cls, "live_method", None)
    if not method:
        return None
    if callable(method):
        if inspect.iscoroutinefunction(method):
            raise LiveMethodError(
                f"{entry.page_name}.live_method is an async function that returns its answer; "
                "a live method is either a regular function that returns it or an async "
                "function that yields its answers (async def with yield)"
            )
        return method
    if isinstance(method, str):
        name = method
        app = project.apps[entry.app_name]
        named = _named_live_function(app, name)
        if named is not None and named is getattr(app.player_cls, name, None):
            return lambda player, data: getattr(player, name)(data)
        if named is not None:
            return named
        raise LiveMethodError(
            f"{entry.page_name}.live_method names {name!r}, which is neither a method of "
            f"Player nor a function in {app.location}/__init__.py"
        )
    raise LiveMethodError(f"{entry.page_name}.live_method must be a function or its name")


def participant_exists(database: Database, code: str) -> bool:
    """Is there a participant with this code (a live page's connection may stay open)?"""
    with database.read() as db:
        return db.scalar(sa.select(Participant.id).where(Participant.code == code)) is not None


def send_live_message(
    database: Database,
    project: Project,
    code: str,
    page_index: int,
    data: Any,
    message_key: str | None = None,
    scope_hint: tuple[Any, int] | None = None,
    steps_later: bool = False,
) -> LiveResult:
    """Run the live method of page ``page_index`` for participant ``code`` with ``data``.

    One unit of work: locks the group and the participant (LOCK ORDER), runs the live method,
    stores its answers for the addressed group members, and (with ``message_key``) a receipt,
    so a resent copy of the message is acknowledged without running again. ``scope_hint``
    (the ``scope`` of the page's previous LiveResult) is locked first without looking the
    participant up; when it is no longer the page's scope, nothing is written and the unit of
    work runs again as without it. An async
    generator live method goes on in one unit of work per further step (module docstring),
    and this returns once it has ended, with its first answer; with ``steps_later`` it
    returns after the first unit of work, the steps left to ``result.later.finish()``, which
    an event loop awaits holding no thread while the steps await. Raises
    ParticipantNotFound, LiveMethodError, and whatever the live method raises (then nothing
    of it is stored).
    """
    if message_key is not None and len(message_key) > MAX_MESSAGE_KEY:
        raise LiveMethodError(f"a live message id has at most {MAX_MESSAGE_KEY} characters")
    if message_key is not None and message_key.startswith("grove:"):
        raise LiveMethodError("a live message id may not start with 'grove:'")

    steps: _AsyncSteps | None = None
    taken: int | None = None  # the RUNNING_KEY receipt the last run of ``work`` took
    turn: int | None = None  # that receipt's id once its unit of work committed
    hint = scope_hint

    def work(db: Session) -> LiveResult:
        nonlocal steps, taken
        taken = None  # a unit of work that did not commit took no turn
        if hint is not None:
            participant = lock_participant_in_scope(db, project, code, hint)
        else:
            participant = lock_participant(db, project, code)
        if participant is None:
            raise ParticipantNotFound(f"no participant with code {code!r}")
        entry = flow.current_entry(project, participant)
        if entry is None or entry.index != page_index:
            return LiveResult("not_on_page")
        method = live_method_of(project, entry)
        if method is None:
            return LiveResult("not_on_page")
        # Live methods nearly always use the group, and answers go to its members.
        player = flow.player_for(db, project, participant, entry, with_group=True)
        scope = flow.scope_row(project, entry, player)
        if hint is not None and scope != hint:
            return LiveResult(_STALE_HINT)  # nothing written: run again without the hint
        is_async = inspect.isasyncgenfunction(method)
        if is_async and _turn_taken(db, code):
            return LiveResult(_BUSY)  # nothing written: run again once it has ended
        if message_key is not None and _take_receipt(db, code, message_key) is None:
            return LiveResult("duplicate", scope=scope)
        if is_async:
            if session is None:  # _has_async_live_methods finds every such method
                raise LiveMethodError(f"{entry.page_name}.live_method: an async method not found")
            taken = _take_turn(db, code)
            if steps is not None:  # this unit of work aborted on PostgreSQL, run again
                steps.close()
            # Nothing of the method runs yet: its steps run after this unit (no lock held).
            steps = _AsyncSteps(player, entry, method(player, data))
            return LiveResult("ran", None, scope)
        return_value = method(player, data)
        _deliver(db, player, entry, return_value)
        return LiveResult("ran", return_value, scope)

    # An async generator's steps keep one session across their units of work; any other
    # message is one unit of work in a session of its own, which on SQLite may share a group
    # commit with other writers (server/db.py, GROUP COMMIT).
    session = database.writer_session() if _has_async_live_methods(project) else None
    try:
        while True:
            result = database.run(work, session)
            turn = taken
            if result.status == _STALE_HINT:
                hint = None
            elif result.status == _BUSY:
                _wait_for_turn(database, code)
            else:
                break
        if steps is not None and result.status == "ran":
            assert session is not None
            assert turn is not None
            later = _LaterSteps(database, project, code, session, steps, turn, result)
            steps, session, turn = None, None, None  # later's to close, once they have run
            if steps_later:
                return dataclasses.replace(result, later=later)
            return later.finish_here()
        return result
    finally:
        try:
            if steps is not None:
                steps.close()
        finally:
            if session is not None:
                session.close()
            if turn is not None:
                _end_turn(database, turn)


def _named_live_function(app: AppSpec, name: str) -> Callable[..., Any] | None:
    """The function a ``live_method`` given by name stands for: the Player method of that
    name, else the app module's function, else None."""
    on_player = getattr(app.player_cls, name, None)
    if callable(on_player):
        return on_player
    return app.hook(name)


def _has_async_live_methods(project: Project) -> bool:
    """Whether any page of the project has an async generator live method (a function, or
    the name of a Player method or module function)."""
    for app in project.apps.values():
        for page_cls in app.page_sequence:
            method = getattr(page_cls, "live_method", None)
            if isinstance(method, str):
                method = _named_live_function(app, method)
            if method is not None and inspect.isasyncgenfunction(method):
                return True
    return False


def _turn_stale_before() -> float:
    """The time before which a RUNNING_KEY receipt was stamped by a method that no longer
    runs (its worker ended): a step stored TURN_STAMP_SECONDS or more after the last stamp
    stamps it, and a step lasts at most ASYNC_STEP_SECONDS."""
    return time.time() - TURN_STAMP_SECONDS - ASYNC_STEP_SECONDS - 30.0


def _turn_query(code: str) -> sa.Select[Any]:
    return sa.select(LiveReceipt.id).where(
        LiveReceipt.participant_code == code,
        LiveReceipt.message_key == RUNNING_KEY,
        LiveReceipt.created_at >= _turn_stale_before(),
    )


def _turn_taken(db: Session, code: str) -> bool:
    """Is an async live method of this participant running (in the unit of work that holds
    the participant's lock)?"""
    return db.scalar(_turn_query(code)) is not None


def _take_turn(db: Session, code: str) -> int:
    """Take the participant's turn to run an async live method (``_turn_taken`` said it was
    free, under the participant's lock): a stale receipt is replaced. Returns its id."""
    db.execute(
        sa.delete(LiveReceipt).where(
            LiveReceipt.participant_code == code, LiveReceipt.message_key == RUNNING_KEY
        )
    )
    taken = _take_receipt(db, code, RUNNING_KEY)
    assert taken is not None, "none left after the delete"
    return taken


def _stamp_turn(db: Session, turn: int) -> None:
    """Note that the method holding ``turn`` still runs (at each stored step)."""
    db.execute(sa.update(LiveReceipt).where(LiveReceipt.id == turn).values(created_at=time.time()))


def _wait_for_turn(database: Database, code: str) -> None:
    """Wait, reading, until no async live method of the participant runs (then its unit of
    work looks again, under the participant's lock)."""
    while True:
        with database.read() as db:
            if not _turn_taken(db, code):
                return
        time.sleep(TURN_POLL_SECONDS)


def _end_turn(database: Database, turn: int, attempts: int | None = None) -> None:
    """Give the participant's turn back (their next async live method may run). Should the
    database fail here (busy or unavailable: the step that failed before may have met the
    same), it is tried again in a background thread every END_TURN_RETRY_SECONDS, up to
    ``attempts`` tries in all, rather than leaving the participant's next async live
    message to wait, in a request thread, until the turn goes stale (``_turn_stale_before``,
    minutes); after the last, the turn goes stale and is taken over as before. The method's
    own outcome stands; the failure is logged. ``attempts``: END_TURN_ATTEMPTS if None."""
    attempts = END_TURN_ATTEMPTS if attempts is None else attempts
    try:
        database.run(lambda db: db.execute(sa.delete(LiveReceipt).where(LiveReceipt.id == turn)))
    except (DatabaseBusy, DatabaseUnavailable) as error:
        if attempts <= 1:
            logger.warning("an async live method's turn was not given back (%s)", error)
            return
        logger.info("an async live method's turn is given back later (%s)", error)
        later = threading.Timer(END_TURN_RETRY_SECONDS, _end_turn, (database, turn, attempts - 1))
        later.daemon = True
        later.start()


@dataclass
class _StepChanges:
    """What a step of an async live method changed on its session's objects: the fields set
    (JSON changed in place included), the rows added and deleted. Taken before the step's
    reads end (which drops unflushed changes) and set again under the step's locks."""

    values: list[tuple[Any, dict[str, Any]]]
    added: list[Any]
    deleted: list[Any]
    # The JSON values (participant.vars, session.vars) the objects held, changed or not: the
    # method may hold on to them (``replies = participant.vars["replies"]``) across a yield.
    held: list[tuple[Any, str, Any]]
    # For a JSON dict the step changed (participant.vars), the keys it set or removed, by
    # (id(object), column): only they are set on the dict as read afresh, so keys others
    # stored meanwhile (the page's before_next_page) stay.
    touched: dict[tuple[int, str], set[str]]

    @classmethod
    def taken_from(cls, db: Session) -> _StepChanges:
        loaded = {  # the JSON as the step's objects were read, before it changed them
            id(target): dict(target.__dict__.get("_grove_json_snapshots") or {})
            for target in db.identity_map.values()
            if isinstance(target, TracksJsonVars)
        }
        flag_changed_json(db)
        values = []
        for target in db.dirty:
            state = sa.inspect(target)
            columns = state.mapper.column_attrs
            changed = {
                key: state.dict[key]
                for key in state.committed_state
                if key in columns and key in state.dict
            }
            if changed:
                values.append((target, changed))
        held = [
            (target, name, target.__dict__[name])
            for target in db.identity_map.values()
            if isinstance(target, TracksJsonVars)
            for name in target._json_columns
            if isinstance(target.__dict__.get(name), dict | list)
        ]
        touched = {}
        for target, changed in values:
            for key, value in changed.items():
                before = loaded.get(id(target), {}).get(key)
                if before is None or not isinstance(value, dict):
                    continue
                old = json.loads(before)
                if isinstance(old, dict):
                    new = json.loads(stored_json(value))
                    touched[(id(target), key)] = {
                        name
                        for name in old.keys() | new.keys()
                        if name not in old
                        or name not in new
                        or json.dumps(old[name], sort_keys=True)
                        != json.dumps(new[name], sort_keys=True)
                    }
        return cls(values, list(db.new), list(db.deleted), held, touched)

    def set_again(self, db: Session) -> None:
        """Set the changes on the objects as read afresh in this unit of work (of a JSON dict
        the keys the step set or removed, the others as read afresh); a JSON value not
        changed takes what was read afresh in place, so that the dicts and lists the
        method holds are still the objects' (as in oTree, whose method keeps its objects)."""
        for target, changed in self.values:
            for key, value in changed.items():
                keys = self.touched.get((id(target), key))
                fresh = getattr(target, key) if keys is not None else None
                if keys is not None and isinstance(fresh, dict):
                    for name in [name for name in value if name not in keys | fresh.keys()]:
                        del value[name]  # removed meanwhile
                    for name, stored in fresh.items():
                        if name not in keys:
                            value[name] = (
                                _made_equal(value[name], stored) if name in value else stored
                            )
                setattr(target, key, value)
        changed_keys = {(id(target), key) for target, changed in self.values for key in changed}
        for target, name, value in self.held:
            if (id(target), name) in changed_keys or sa.inspect(target).detached:
                continue
            fresh = getattr(target, name)
            if fresh is not value and _made_equal(value, fresh) is value:
                set_committed_value(target, name, value)
        for target in self.added:
            db.add(target)
        for target in self.deleted:
            db.delete(target)


def _made_equal(held: Any, fresh: Any) -> Any:
    """``held`` changed in place to equal ``fresh`` (its dicts and lists, at any depth, kept
    where ``fresh`` has a dict or list too), or ``fresh`` when they are not both dicts or
    both lists."""
    if isinstance(held, dict) and isinstance(fresh, dict):
        for key in [key for key in held if key not in fresh]:
            del held[key]
        for key, value in fresh.items():
            held[key] = _made_equal(held[key], value) if key in held else value
        return held
    if isinstance(held, list) and isinstance(fresh, list):
        del held[len(fresh) :]
        for index, value in enumerate(fresh):
            if index < len(held):
                held[index] = _made_equal(held[index], value)
            else:
                held.append(value)
        return held
    return fresh


_loop_guard = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None  # (process id, its loop)


def _method_loop() -> asyncio.AbstractEventLoop:
    """The process's event loop for async live methods, running in a daemon thread of its
    own, started at the first step (again in a forked worker, whose copy has no thread)."""
    global _loop
    with _loop_guard:
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            # For the steps' units of work (which may wait for a write lock), as many as a
            # server's request threads.
            loop.set_default_executor(
                concurrent.futures.ThreadPoolExecutor(40, thread_name_prefix="grove-live-units")
            )
            threading.Thread(
                target=loop.run_forever, name="grove-async-live-methods", daemon=True
            ).start()
            _loop = (os.getpid(), loop)
        return _loop[1]


class _AsyncSteps:
    """An async generator live method, run one step (up to its next ``yield``) at a time on
    the process's event loop for them (``_method_loop``), with no lock held (the module's
    docstring), each step's changes and answer then stored in a unit of work; all in one
    session, so the objects the method holds stay attached."""

    def __init__(self, player: Any, entry: PageEntry, answers: AsyncGenerator[Any, None]):
        self.player = player
        self.entry = entry
        self.answers = answers
        self.loop = _method_loop()

    async def run(
        self, database: Database, session: Session, project: Project, code: str, turn: int
    ) -> list[Any]:
        """Run every step on this loop, each stored (in a thread, stamping ``turn``, the id
        of the participant's RUNNING_KEY receipt) before the next runs; return the answers
        yielded. Raises what a step raises (LiveMethodError for one that ran longer than
        ASYNC_STEP_SECONDS): that step's changes and answer are not stored."""
        loop = asyncio.get_running_loop()
        answers: list[Any] = []
        stamped = time.monotonic()  # the turn was taken (stamped) just before
        while True:
            with database.between_units(session), in_unit(session):
                try:
                    answer = await asyncio.wait_for(anext(self.answers), ASYNC_STEP_SECONDS)
                    ended = not answer  # oTree stops at a falsy answer
                except StopAsyncIteration:
                    answer, ended = None, True
                except TimeoutError:
                    raise LiveMethodError(
                        f"a step of an async live method (its code up to the next yield) ran "
                        f"longer than {ASYNC_STEP_SECONDS:g} s"
                    ) from None
                changes = _StepChanges.taken_from(session)

            stamp = time.monotonic() - stamped >= TURN_STAMP_SECONDS

            def store(
                db: Session,
                answer: Any = answer,
                changes: _StepChanges = changes,
                stamp: bool = stamp,
            ) -> None:
                lock_participant(db, project, code)  # LOCK ORDER; all read afresh
                if stamp:
                    _stamp_turn(db, turn)
                changes.set_again(db)
                _deliver(db, self.player, self.entry, answer)

            # A unit of work may wait for the write lock: not on the loop's thread.
            await loop.run_in_executor(None, database.run, store, session)
            if stamp:
                stamped = time.monotonic()
            if ended:
                return answers
            answers.append(answer)

    def close(self) -> None:
        """Close the generator (its ``finally`` blocks run, on the loop it ran on)."""
        asyncio.run_coroutine_threadsafe(self.answers.aclose(), self.loop).result()


class _LaterSteps:
    """An async live method whose first unit of work has committed, its steps still to run
    (``_AsyncSteps``); when they end, the generator is closed, the session too and the
    participant's turn given back."""

    def __init__(
        self,
        database: Database,
        project: Project,
        code: str,
        session: Session,
        steps: _AsyncSteps,
        turn: int,
        first: LiveResult,
    ) -> None:
        self.database, self.project, self.code = database, project, code
        self.session, self.steps, self.turn, self.first = session, steps, turn, first

    def _start(self) -> concurrent.futures.Future[list[Any]]:
        return asyncio.run_coroutine_threadsafe(self._run(), self.steps.loop)

    async def _run(self) -> list[Any]:
        try:
            return await self.steps.run(
                self.database, self.session, self.project, self.code, self.turn
            )
        finally:
            try:
                await self.steps.answers.aclose()
            finally:
                await asyncio.get_running_loop().run_in_executor(None, self._release)

    def _release(self) -> None:
        try:
            self.session.close()
        finally:
            _end_turn(self.database, self.turn)

    def _result(self, answers: list[Any]) -> LiveResult:
        return dataclasses.replace(self.first, return_value=answers[0] if answers else None)

    def finish_here(self) -> LiveResult:
        """Run the steps, this thread waiting; the LiveResult with the first answer."""
        return self._result(self._start().result())

    async def finish(self) -> LiveResult:
        """Run the steps, awaited on the caller's event loop (no thread of it held)."""
        return self._result(await asyncio.wrap_future(self._start()))


def call_live_method(
    database: Database, project: Project, code: str, entry: PageEntry, data: Any
) -> Any:
    """Run page ``entry``'s live method for participant ``code`` wherever they are (bots'
    ``method(id_in_group, data)``, which oTree runs whether or not the player has reached
    the page); its answers are delivered as a page's would be. Returns what it returned."""

    def work(db: Session) -> Any:
        peek = get_participant(db, code)
        player = flow.player_for(db, project, peek, entry)
        lock_ids_in_order(db, project.apps[entry.app_name].group_cls, [player.group_id])
        db.execute(
            sa.select(Participant.id).where(Participant.id == peek.id).with_for_update()
        ).all()
        note_rows_held(db, cast(sa.Table, Participant.__table__), (peek.id,))
        db.expire_all()
        player_cache.forget(db)
        participant = get_participant(db, code)
        # Live methods nearly always use the group, and answers go to its members.
        player = flow.player_for(db, project, participant, entry, with_group=True)
        method = live_method_of(project, entry)
        if method is None:
            raise LiveMethodError(f"{entry.page_name} has no live_method")
        if inspect.isasyncgenfunction(method):
            raise LiveMethodError(
                f"bots cannot call {entry.page_name}'s async live_method (oTree 6's bots do "
                "not run it either)"
            )
        return_value = method(player, data)
        _deliver(db, player, entry, return_value)
        return return_value

    return database.run(work)


def _take_receipt(db: Session, code: str, message_key: str) -> int | None:
    """Store the message's receipt in one statement; its id, or None when a copy of it ran
    before."""
    stored = db.execute(
        dialect_insert(db, LiveReceipt)
        .values(participant_code=code, message_key=message_key, created_at=time.time())
        .on_conflict_do_nothing(index_elements=["participant_code", "message_key"])
        .returning(LiveReceipt.id)
    )
    return stored.scalar()


def group_member_codes(player: Any) -> dict[int, str]:
    """The participant code of each member of ``player``'s group, by id_in_group: one query
    (not one per member's participant), in the player's own database session."""
    player_cls: Any = type(player)
    db = object_session(player)
    assert db is not None, "a player read from the database"
    rows = db.execute(
        sa.select(player_cls.id_in_group, Participant.code)
        .join(Participant, Participant.id == player_cls.participant_id)
        .where(player_cls.group_id == player.group_id)
        .order_by(player_cls.id_in_group)
    ).all()
    return {id_in_group: code for id_in_group, code in rows}


def _deliver(db: Session, player: Any, entry: PageEntry, return_value: Any) -> None:
    """Store a live method's answers for the addressed members of ``player``'s group, in one
    statement that reads the members' codes too (the module docstring's rules: a falsy
    return value sends nothing, nor does an answer of None). Raises LiveMethodError for
    anything but oTree's shape, perhaps after the answers were stored: the unit of work then
    rolls back and sends nothing."""
    if not return_value:
        return
    if not isinstance(return_value, dict):
        raise LiveMethodError(
            f"a live method must return a dict {{id_in_group: data}}, not "
            f"{type(return_value).__name__}"
        )
    player_cls: Any = type(player)
    if 0 in return_value:
        if len(return_value) > 1:
            raise LiveMethodError(
                "a live method's return value with the key 0 (the whole group) must have no "
                "other keys"
            )
        if return_value[0] is not None:
            push.publish_selected(
                db,
                _to_whole_group(player_cls, entry.index),
                {"group_id": player.group_id, "body": safe_json(return_value[0])},
            )
        return
    bodies: dict[int, str] = {}
    written: dict[int, str] = {}  # one object for several players: its JSON is written once
    for key, data in return_value.items():
        member_id = _as_member_id(key)
        if member_id is None:
            _not_a_member(player, key)
        if data is not None:
            if id(data) not in written:
                written[id(data)] = safe_json(data)
            bodies[member_id] = written[id(data)]
    stored = 0
    if bodies:
        ids = tuple(sorted(bodies))
        parameters = {f"body_{n}": bodies[member_id] for n, member_id in enumerate(ids)}
        stored = push.publish_selected(
            db,
            _to_members(player_cls, entry.index, ids),
            {"group_id": player.group_id, **parameters},
        )
    if stored < len(return_value):  # a key that is no member's, or an answer of None
        members = group_member_codes(player)
        for key in return_value:
            if key not in members:
                _not_a_member(player, key, members)


def _as_member_id(key: Any) -> int | None:
    """The id_in_group a live method's key stands for: the integer it equals (``2``, ``2.0``,
    numpy's ``int64(2)``), as oTree looks a key up among the members' ids (otree/live.py,
    ``pid not in pcodes_dict``). None for a bool (Grove is stricter there), a value equal to
    no integer, or one outside a 64-bit column's range: no member has that id."""
    if isinstance(key, bool):
        return None
    try:
        number = int(key)
    except (TypeError, ValueError, OverflowError):
        return None
    if number != key or not -(2**63) <= number < 2**63:
        return None
    return number


def _not_a_member(player: Any, key: Any, members: dict[int, str] | None = None) -> NoReturn:
    if members is None:
        members = group_member_codes(player)
    raise LiveMethodError(
        f"a live method returned a message for id_in_group={key!r}, but the group has the "
        f"players {sorted(members)}"
    )


def _answers_query(player_cls: Any, page_index: int, body: Any) -> sa.Select[Any]:
    """The live channel of page ``page_index`` (as ``live_channel`` names it) of each member
    of the group ``:group_id`` and ``body``, a SQL expression of their answer's JSON."""
    channel = sa.literal("live:", sa.String) + Participant.code
    channel = channel + sa.literal(f":{page_index}", sa.String)
    return (
        sa.select(channel, body)
        .select_from(player_cls)
        .join(Participant, Participant.id == player_cls.participant_id)
        .where(player_cls.group_id == sa.bindparam("group_id"))
    )


@functools.lru_cache(maxsize=256)
def _to_members(player_cls: Any, page_index: int, ids: tuple[int, ...]) -> sa.Select[Any]:
    """``_answers_query`` for the members with these ids_in_group, the answer of the n-th
    (in ``ids``' order) bound as ``:body_<n>``: built once per page and set of ids, so the
    statement around it is too (``push.publish_selected``) and no answer's text is kept."""
    by_member = sa.case(
        {member_id: sa.bindparam(f"body_{n}", type_=sa.Text) for n, member_id in enumerate(ids)},
        value=player_cls.id_in_group,
    )
    query = _answers_query(player_cls, page_index, by_member)
    return query.where(player_cls.id_in_group.in_(ids))


@functools.cache
def _to_whole_group(player_cls: Any, page_index: int) -> sa.Select[Any]:
    """``_answers_query`` with one answer ``:body`` for every member, built once."""
    return _answers_query(player_cls, page_index, sa.bindparam("body", type_=sa.Text))
