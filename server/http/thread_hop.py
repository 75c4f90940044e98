"""A request's blocking work in a worker thread, for less than Starlette's ``run_in_threadpool``.

``run_in_threadpool`` (anyio's ``to_thread.run_sync``) yields to the event loop once before it
starts (a checkpoint), enters an async capacity limiter and a shielded cancel scope, and finds
the root task to stop its threads with: some 20-60 us of CPU a call, a twentieth of a page
GET's or more. :func:`run_in_thread` keeps what a server needs of it and drops the rest:

* the same limit on threads at once: a token of anyio's default thread limiter (the one
  ``run_in_threadpool`` uses, 40 unless changed), taken without waiting when one is free;
  when none is, the call queues for one through ``run_in_threadpool`` itself. So the database
  pools sized for 40 request threads (``server/db.py``) still see at most that many;
* the caller's context variables, as anyio copies them into its thread;
* the most recently idle thread takes the next call (anyio's order too): one client's
  requests run on one thread, with its SQLite read connection (``server/db.py``,
  ``_KeptReaders``) and its caches warm. A thread is idle again before its caller hears of
  the result, so a caller's next call never finds none idle and starts another for nothing;
* the token held until the function has returned, even when the awaiting task is cancelled
  (anyio waits for the thread; here the cancelled task goes on and the function's end gives
  the token back).

The threads are started as needed (none at import) and kept, one per call that ran at once
at most; anyio ends an idle thread after 10 s, and a new one opens its own read connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections import deque
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, ParamSpec, TypeVar

import anyio
import anyio.to_thread
from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")

_Call = tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[[], Any], Any, object]


class _Worker(threading.Thread):
    """One worker thread: runs the calls put in its queue, one at a time, until None."""

    def __init__(self) -> None:
        super().__init__(name="grove-request", daemon=True)
        self.calls: SimpleQueue[_Call | None] = SimpleQueue()

    def run(self) -> None:
        while (call := self.calls.get()) is not None:
            loop, future, function, limiter, token = call
            result: Any = None
            error: BaseException | None = None
            try:
                result = function()
            except BaseException as raised:
                error = raised
            _idle.append(self)  # idle before the caller can hear of the result
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(_settle, future, result, error, limiter, token)
            del call, future, function, result, error


# Idle workers, the most recently idle last (deque's append and pop are atomic).
_idle: deque[_Worker] = deque()


def _settle(
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
    limiter: Any,
    token: object,
) -> None:
    """On the caller's loop: the token back (the limiter is not thread-safe), then the
    result or error to the caller, unless it was cancelled meanwhile."""
    limiter.release_on_behalf_of(token)
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def run_in_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a worker thread, in a copy of the caller's context;
    its result, or what it raised. Counts against anyio's default thread limiter as
    ``run_in_threadpool`` does (see the module's docstring); must be awaited on an asyncio
    event loop."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    token = object()
    try:
        limiter.acquire_on_behalf_of_nowait(token)
    except anyio.WouldBlock:
        return await run_in_threadpool(function, *args, **kwargs)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
    try:
        worker = _idle.pop()
    except IndexError:
        worker = _Worker()
        try:
            worker.start()
        except BaseException:
            limiter.release_on_behalf_of(token)
            raise
    worker.calls.put((loop, future, call, limiter, token))
    return await future
