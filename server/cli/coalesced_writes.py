"""A connection's writes of one event-loop turn sent as one: uvicorn writes a response's head
and its body separately, and with ``TCP_NODELAY`` (``server.cli.serving``) each write is a
send system call and a packet of its own. Buffering the writes until the loop's next turn
sends head and body (and anything else written meanwhile) in one call, without the delay
that Nagle's algorithm would add.

A buffer that passes COALESCE_LIMIT goes out at once: a streamed body whose generator never
gives the loop a turn would otherwise be buffered whole, out of reach of the transport's flow
control (which pauses uvicorn's writes while the client is behind).
"""

from __future__ import annotations

import asyncio
from typing import Any

# Buffered bytes past which a write sends at once instead of at the loop's next turn (asyncio's
# transports ask their protocol to pause writing past 64 KiB of their own).
COALESCE_LIMIT = 64 * 1024


class CoalescedWrites:
    """Wraps a transport: ``write`` buffers, and the buffer goes out in one ``write`` of the
    wrapped transport at the loop's next turn, or at once when it passes COALESCE_LIMIT
    bytes and before ``close`` or ``write_eof`` (``abort`` drops it). Everything else is the
    wrapped transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Buffer ``data``; the first write into an empty buffer schedules the flush (so a
        buffer flushed at the limit may leave one that finds nothing), and a write that takes
        the buffer past COALESCE_LIMIT bytes flushes at once."""
        if not self._pending:
            self._loop.call_soon(self.flush)
        chunk = bytes(data)
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        if self._pending_bytes > COALESCE_LIMIT:
            self.flush()

    def writelines(self, chunks: Any) -> None:
        """Buffer each of ``chunks``."""
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what is buffered, in one write (dropped if the connection is closing)."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        """Bytes not yet sent: the buffer here and the wrapped transport's."""
        return self._pending_bytes + self._transport.get_write_buffer_size()

    def close(self) -> None:
        """Send what is buffered, then close."""
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        """Send what is buffered, then half-close."""
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        """Close at once; what is buffered is dropped, as the wrapped transport drops its own."""
        self._pending.clear()
        self._pending_bytes = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
