"""A connection's writes of one event-loop turn go out as one (server/cli/coalesced_writes.py):
uvicorn writes a response's head and body separately, and with TCP_NODELAY each write would be
a send and a packet of its own."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.responses import StreamingResponse

from server.cli.coalesced_writes import COALESCE_LIMIT, CoalescedWrites
from server.cli.serving import HTTP_PROTOCOL


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


def test_a_buffer_past_the_limit_goes_out_at_once_head_and_body_together() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        transport = _Transport()
        wrapped = CoalescedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        wrapped.write(b"HTTP/1.1 200 OK\r\n\r\n")
        wrapped.write(b"a" * COALESCE_LIMIT)  # no turn between the writes
        at_once = list(transport.writes)
        wrapped.write(b"tail")
        await asyncio.sleep(0)
        return at_once, transport.writes

    at_once, after = asyncio.run(scenario())
    assert at_once == [b"HTTP/1.1 200 OK\r\n\r\n" + b"a" * COALESCE_LIMIT]
    assert after == [*at_once, b"tail"]


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


def test_a_long_response_to_a_reader_that_does_not_read_stays_bounded_in_the_server() -> None:
    """A streamed body whose generator never gives the event loop a turn (it computes each
    chunk, awaiting nothing) was buffered whole here: the flush waits for the loop's next
    turn, so the wrapped transport saw nothing, never asked uvicorn to pause, and the whole
    body sat in the server's memory however slowly the client read (30 MB in a review). A
    buffer past COALESCE_LIMIT goes out at once, so the transport's flow control pauses the
    response while the reader is behind."""
    total = 16 * 1024 * 1024
    chunk = b"x" * (16 * 1024)
    produced = [0]

    async def body() -> AsyncIterator[bytes]:
        for _ in range(total // len(chunk)):
            produced[0] += len(chunk)
            yield chunk

    async def app(scope: dict, receive: Any, send: Any) -> None:
        response = StreamingResponse(body(), headers={"content-length": str(total)})
        await response(scope, receive, send)

    protocols: list[asyncio.Protocol] = []

    class Recorded(HTTP_PROTOCOL):  # type: ignore[misc,valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            protocols.append(self)

    async def scenario() -> tuple[int, int]:
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.bind(("127.0.0.1", 0))
        port = listening.getsockname()[1]
        config = uvicorn.Config(
            app, http=Recorded, lifespan="off", log_level="warning", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        reader = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            while not server.started:
                await asyncio.sleep(0.01)
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a slow reader
            reader.connect(("127.0.0.1", port))
            reader.sendall(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")  # and never reads
            while not protocols:
                await asyncio.sleep(0.01)
            seen = -1
            while seen != produced[0]:  # until the body stops (paused, or all of it made)
                seen = produced[0]
                await asyncio.sleep(0.2)
            transport = protocols[0].transport  # type: ignore[attr-defined]
            return transport.get_write_buffer_size(), produced[0]
        finally:
            reader.close()
            server.should_exit = True
            await serving
            listening.close()

    buffered, made = asyncio.run(scenario())
    assert buffered < 4 * COALESCE_LIMIT, buffered
    assert made < total
