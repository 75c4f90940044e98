"""A connection's writes of one event-loop turn go out as one (server/cli/coalesced_writes.py):
uvicorn writes a response's head and body separately, and with TCP_NODELAY each write would be
a send and a packet of its own."""

from __future__ import annotations

import asyncio

from server.cli.coalesced_writes import CoalescedWrites


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_the_writes_of_one_turn_are_sent_in_one_write_at_the_next() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes], int]:
        transport = _Transport()
        wrapped = CoalescedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        wrapped.write(b"HTTP/1.1 200 OK\r\n\r\n")
        wrapped.write(memoryview(b"body"))
        before = list(transport.writes)
        buffered = wrapped.get_write_buffer_size()
        await asyncio.sleep(0)
        return before, transport.writes, buffered

    before, after, buffered = asyncio.run(scenario())
    assert before == []
    assert buffered == len(b"HTTP/1.1 200 OK\r\n\r\nbody")
    assert after == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


def test_close_sends_what_is_buffered_first_and_abort_drops_it() -> None:
    async def scenario() -> tuple[_Transport, _Transport]:
        loop = asyncio.get_running_loop()
        closing, aborting = _Transport(), _Transport()
        for transport in (closing, aborting):
            wrapped = CoalescedWrites(transport, loop)  # type: ignore[arg-type]
            wrapped.write(b"431 Request Header Fields Too Large")
            wrapped.close() if transport is closing else wrapped.abort()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
        return closing, aborting

    closing, aborting = asyncio.run(scenario())
    assert closing.writes == [b"431 Request Header Fields Too Large"]
    assert closing.closed
    assert aborting.writes == []
    assert aborting.aborted


def test_everything_else_is_the_wrapped_transports() -> None:
    loop = asyncio.new_event_loop()
    try:
        wrapped = CoalescedWrites(_Transport(), loop)  # type: ignore[arg-type]
        assert wrapped.get_extra_info("peername") == "info:peername"
    finally:
        loop.close()
