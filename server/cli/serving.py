"""How uvicorn serves Grove: the protocol class and options shared by every server command.

With ``--workers N`` uvicorn binds the listening socket itself without naming the protocol,
and asyncio only sets ``TCP_NODELAY`` on sockets whose protocol is ``IPPROTO_TCP``. Without
it, a response written in two parts (headers, then body) waits for the client's delayed ACK:
every keep-alive request took 40 ms or more on a multi-worker server (measured by
``python -m bench``). The protocol classes here set ``TCP_NODELAY`` on every connection, and
the httptools one sends the writes of one event-loop turn (a response's head and body) in one
send (``server.cli.coalesced_writes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from server.cli.coalesced_writes import CoalescedWrites

try:  # httptools is uvicorn's fast HTTP parser; h11 is the pure-Python fallback.
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is in requirements.txt
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once on this connection (no Nagle delay)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # a socket closed before we got to it
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with ``TCP_NODELAY`` on every connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set ``TCP_NODELAY``, then let uvicorn take the connection."""
        set_nodelay(transport)
        super().connection_made(transport)


# The most a request line plus headers may take (h11, uvicorn's other parser, stops at 16 KiB;
# httptools has no limit of its own, so a client streaming one endless header line made a
# worker buffer it in memory, hundreds of MB, and stalled everyone else's requests).
MAX_HEAD_BYTES = 64 * 1024
_TOO_LARGE = b"Request header fields too large."


if HttpToolsProtocol is not None:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with ``TCP_NODELAY`` on every connection, and a limit of
        :data:`MAX_HEAD_BYTES` on a request's head (answered 431, connection closed)."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            """Set ``TCP_NODELAY``, then let uvicorn take the connection."""
            set_nodelay(transport)
            transport = CoalescedWrites(transport, asyncio.get_running_loop())  # type: ignore[assignment]
            self._head_bytes = 0
            self._heads_completed = 0
            self._in_head = True
            super().connection_made(transport)

        def data_received(self, data: bytes) -> None:
            """Parse ``data``; refuse the request once its head passes the limit unfinished
            (counted after parsing, so a chunk that ends the head and starts a body is fine)."""
            in_head, heads_before = self._in_head, self._heads_completed
            super().data_received(data)
            if self._heads_completed != heads_before:
                self._head_bytes = 0  # a head ended in this chunk (perhaps its request too)
            elif in_head and self._in_head:  # not a body's last chunk: the head goes on
                self._head_bytes += len(data)
                if self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
                    self.transport.write(
                        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                        b"content-type: text/plain; charset=utf-8\r\n"
                        b"content-length: " + str(len(_TOO_LARGE)).encode() + b"\r\n"
                        b"connection: close\r\n\r\n" + _TOO_LARGE
                    )
                    self.transport.close()

        def on_headers_complete(self) -> None:
            """The head is complete: stop counting until the next request."""
            self._in_head = False
            self._heads_completed += 1
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            """The request is complete: the next bytes are a new request's head."""
            super().on_message_complete()
            self._in_head = True
            self._head_bytes = 0

    HTTP_PROTOCOL: type[asyncio.Protocol] = NoDelayHttpToolsProtocol
else:  # pragma: no cover
    HTTP_PROTOCOL = NoDelayH11Protocol


def production_options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """uvicorn.run keyword arguments for ``prodserver`` (and the benchmark's floor)."""
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": "warning",
        "proxy_headers": True,
        "http": HTTP_PROTOCOL,
        "loop": "auto",
    }
