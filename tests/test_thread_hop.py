"""server.http.thread_hop.run_in_thread: what a page request's blocking work keeps of
Starlette's run_in_threadpool (another thread, the caller's context variables, anyio's limit
on threads at once, a token held until the function returns), for less CPU."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import anyio.to_thread
import pytest

from server.http.thread_hop import run_in_thread

pytestmark = pytest.mark.sqlite  # no database: once is enough

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def test_the_function_runs_in_another_thread_with_the_callers_context():
    async def scenario() -> tuple[str, int, int]:
        _request_id.set("r1")

        def work(offset: int, *, scale: int) -> tuple[str, int]:
            return _request_id.get(), offset * scale

        seen, value = await run_in_thread(work, 2, scale=3)
        thread = await run_in_thread(threading.get_ident)
        return seen, value, thread

    seen, value, thread = asyncio.run(scenario())
    assert (seen, value) == ("r1", 6)
    assert thread != threading.get_ident()


def test_what_the_function_raises_reaches_the_caller():
    def fail() -> None:
        raise LookupError("no such page")

    with pytest.raises(LookupError, match="no such page"):
        asyncio.run(run_in_thread(fail))


def test_calls_count_against_anyios_thread_limiter():
    """With one token, a second call waits for the first to return (as run_in_threadpool's
    calls would), and every token is back afterwards."""

    async def scenario() -> tuple[list[str], float]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = 1
        first_running = threading.Event()
        release = threading.Event()
        order: list[str] = []

        def first() -> None:
            first_running.set()
            release.wait(5)
            order.append("first")

        def second() -> None:
            order.append("second")

        one = asyncio.create_task(run_in_thread(first))
        await asyncio.to_thread(first_running.wait, 5)
        two = asyncio.create_task(run_in_thread(second))
        await asyncio.sleep(0.2)
        held = list(order)  # the second has not run while the first holds the token
        release.set()
        await asyncio.gather(one, two)
        return held + order, limiter.available_tokens

    events, available = asyncio.run(scenario())
    assert events == ["first", "second"]
    assert available == 1


def test_a_cancelled_call_keeps_its_token_until_the_function_returns():
    async def scenario() -> tuple[float, float]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        running = threading.Event()
        release = threading.Event()

        def work() -> None:
            running.set()
            release.wait(5)

        task = asyncio.create_task(run_in_thread(work))
        await asyncio.to_thread(running.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        while_running = limiter.borrowed_tokens
        release.set()
        for _ in range(100):
            if not limiter.borrowed_tokens:
                break
            await asyncio.sleep(0.01)
        return while_running, limiter.borrowed_tokens

    while_running, after = asyncio.run(scenario())
    assert while_running == 1
    assert after == 0


def test_calls_one_after_another_run_on_one_thread():
    """The most recently idle thread takes the next call, and is idle before its caller hears
    of the result: one client's requests keep one thread (and its SQLite read connection)
    instead of starting others."""

    async def scenario() -> set[int]:
        return {await run_in_thread(threading.get_ident) for _ in range(200)}

    assert len(asyncio.run(scenario())) == 1
