"""A request's blocking work in a worker thread, for less than Starlette's ``run_in_threadpool``.

``run_in_threadpool`` (anyio's ``to_thread.run_sync``) yields to the event loop once before it
starts (a checkpoint), enters an async capacity limiter and a shielded cancel scope, and finds
the root task to stop its threads with: some 60 us of CPU a call, about a fifteenth of a page
GET's. :func:`run_in_thread` keeps what a server needs of it and drops the rest:

* the same limit on threads at once: a token of anyio's default thread limiter (the one
  ``run_in_threadpool`` uses, 40 unless changed), taken without waiting when one is free;
  when none is, the call queues for one through ``run_in_threadpool`` itself. So the database
  pools sized for 40 request threads (``server/db.py``) still see at most that many;
* the caller's context variables, as anyio copies them into its thread;
* the token held until the function has returned, even when the awaiting task is cancelled
  (anyio waits for the thread; here the cancelled task goes on and the thread's end gives
  the token back).

The threads are one ``ThreadPoolExecutor``'s per process, started at the first call (no thread
at import) and kept: anyio ends an idle thread after 10 s, and a new thread opens its own
SQLite read connection (``server/db.py``, ``_KeptReaders``) at its first read.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread
from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")

# The executor's own bound, above anyio's limiter (40 tokens an event loop), which is what
# bounds the calls at once: a thread is started only when none is idle, so a server's one
# loop starts at most 40. Several loops in one process (tests) must not queue behind each
# other's calls, which may be waiting for theirs.
MAX_THREADS = 400

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    """The process's executor, started at the first call."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="grove-request")
    return _executor


async def run_in_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a worker thread, in a copy of the caller's context;
    its result, or what it raised. Counts against anyio's default thread limiter as
    ``run_in_threadpool`` does (see the module's docstring); must be awaited on an event loop
    that anyio supports (asyncio)."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    token = object()
    try:
        limiter.acquire_on_behalf_of_nowait(token)
    except anyio.WouldBlock:
        return await run_in_threadpool(function, *args, **kwargs)
    try:
        call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
        future = _threads().submit(call)
    except BaseException:
        limiter.release_on_behalf_of(token)
        raise
    try:
        return await asyncio.wrap_future(future)
    finally:
        if future.done():
            limiter.release_on_behalf_of(token)
        else:  # cancelled while the function runs: the token goes back when it returns
            loop = asyncio.get_running_loop()
            future.add_done_callback(functools.partial(_release_later, loop, limiter, token))


def _release_later(
    loop: asyncio.AbstractEventLoop, limiter: anyio.CapacityLimiter, token: object, _: Future
) -> None:
    """Give ``token`` back on ``loop``'s thread (the limiter is not thread-safe); nothing if
    the loop has closed meanwhile."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(limiter.release_on_behalf_of, token)
