"""The bots' browser: HTTP requests handed straight to the ASGI app, in this event loop.

What a bot run needs of an HTTP client and no more: a GET, a form POST (or a body of its own
with its content type), the status, the headers and the body of the answer. Redirects are
not followed (the runner follows them as a browser would, to see each URL), and no cookie
is kept: the participant pages bots play are addressed by the participant's code. A general
client (httpx's ASGI transport) spent about a third of the runner's own time per request on
URL parsing, header models and streams this needs none of.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from starlette.types import ASGIApp, Message

HOST = "testserver"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class AsgiResponse:
    """An answer: its status, headers (lowercase names; a repeated header's last value) and
    body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        """The body as text (Grove's pages are UTF-8)."""
        return self.content.decode("utf-8", errors="replace")


class AsgiClient:
    """Sends requests to ``app`` as an HTTP server would hand them over (``Host:
    testserver``); the app's exceptions propagate to the caller."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def get(self, url: str) -> AsgiResponse:
        """GET ``url`` (a path, with or without a query)."""
        return await self.request("GET", url)

    async def post(
        self,
        url: str,
        data: Mapping[str, str] | None = None,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsgiResponse:
        """POST ``data`` as a form (``application/x-www-form-urlencoded``, as a browser sends
        a form), or ``content`` with the content type given in ``headers``."""
        if data is not None:
            content = urlencode(data).encode()
            headers = {"content-type": FORM, **(headers or {})}
        return await self.request("POST", url, content or b"", headers)

    async def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> AsgiResponse:
        """One request; its answer once the app has sent all of it."""
        parts = urlsplit(url)
        raw_path = parts.path or "/"
        sent = [(b"host", HOST.encode()), (b"user-agent", b"grove-bots")]
        if method != "GET" or body:
            sent.append((b"content-length", str(len(body)).encode()))
        sent += [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": sent,
            "server": (HOST, 80),
            "client": ("127.0.0.1", 123),
        }
        requested = False
        complete = asyncio.Event()
        status: int | None = None
        answer_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal requested
            if requested:
                await complete.wait()
                return {"type": "http.disconnect"}
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    answer_headers[name.decode("latin-1").lower()] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    complete.set()

        await self.app(scope, receive, send)
        if status is None or not complete.is_set():
            raise RuntimeError(f"{method} {url}: the app returned without a whole answer")
        return AsgiResponse(status, answer_headers, b"".join(chunks))
