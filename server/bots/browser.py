"""The bots' browser: each request handed to the app in this process as an ASGI call, in this
thread's event loop, with no client library in between.

The request is what httpx2's ASGI transport made of it before (this module used that
transport until importing httpx2 became a tenth of a bot run's start-up): the ``host``
header, a form encoded as a browser encodes it with its ``content-type`` and
``content-length``, the cookies. A redirect is returned, not followed: the runner follows
it, checking each URL it lands on. Cookies are kept as a browser keeps them (RFC 6265): what
the app sets is sent back to the paths it is set for, until the app deletes or expires it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from starlette.types import ASGIApp, Message

ORIGIN = "http://testserver"
HOST = "testserver"
# The client address the app sees (httpx2's ASGI transport gave the same).
CLIENT = ("127.0.0.1", 123)


class Headers(dict[str, str]):
    """An answer's headers by lower-case name; a repeated header's values joined by ", "
    (as HTTP allows to read them), except ``set-cookie``, whose values are kept apart in
    ``set_cookies``."""

    set_cookies: list[str]

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        super().__init__()
        self.set_cookies = []
        for raw_name, raw_value in raw:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            if name == "set-cookie":
                self.set_cookies.append(value)
            self[name] = f"{self[name]}, {value}" if name in self else value


@dataclass
class Response:
    """What the app answered, read in full."""

    status_code: int
    headers: Headers
    content: bytes

    @property
    def text(self) -> str:
        """The body decoded with the ``charset`` of its content-type (UTF-8 without one);
        bytes that do not decode become U+FFFD."""
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not)."""
        return json.loads(self.content)


@dataclass
class _Cookie:
    name: str
    value: str
    path: str
    secure: bool
    expires: float | None  # time.time() after which the cookie is gone; None: at the end


def _default_path(request_path: str) -> str:
    """RFC 6265 5.1.4: the request path up to its last "/" ("/" if that leaves nothing)."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def _path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 5.1.4: ``/room/lab`` matches ``/room/lab`` and ``/room/lab/x``, not
    ``/room/labx``."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )


def _expiry(attributes: dict[str, str], now: float) -> float | None:
    """When a cookie ends (RFC 6265 5.2.1-2, 5.3 step 3): Max-Age wins over Expires; a date
    that does not parse is ignored."""
    if "max-age" in attributes:
        seconds = attributes["max-age"]
        if seconds.lstrip("-").isdigit():
            return now + int(seconds)
    if "expires" in attributes:
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(attributes["expires"]).timestamp()
        except (TypeError, ValueError):
            return None
    return None


@dataclass
class CookieJar:
    """The cookies the app set for this browser (one host, so no Domain to tell apart)."""

    cookies: dict[tuple[str, str], _Cookie] = field(default_factory=dict)

    def store(self, header: str, request_path: str) -> None:
        """Keep (or replace, or delete) the cookie a ``Set-Cookie`` header value sets
        (RFC 6265 5.2, 5.3): a header without ``name=`` or with a Domain other than this
        host is ignored; an expiry in the past deletes the cookie."""
        pair, *parts = header.split(";")
        name, equals, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name:
            return
        attributes: dict[str, str] = {}
        for part in parts:
            key, _, attribute = part.partition("=")
            attributes[key.strip().lower()] = attribute.strip()
        domain = attributes.get("domain", "").lstrip(".").lower()
        if domain and domain != HOST:
            return
        path = attributes.get("path", "")
        if not path.startswith("/"):
            path = _default_path(request_path)
        now = time.time()
        expires = _expiry(attributes, now)
        if expires is not None and expires <= now:
            self.cookies.pop((name, path), None)
            return
        self.cookies[(name, path)] = _Cookie(name, value, path, "secure" in attributes, expires)

    def header(self, request_path: str) -> str | None:
        """The ``Cookie`` header for a request to ``request_path`` over http (RFC 6265 5.4):
        the cookies whose path matches, not Secure ones, longer paths first; None if none."""
        now = time.time()
        for key in [
            k for k, c in self.cookies.items() if c.expires is not None and c.expires <= now
        ]:
            del self.cookies[key]
        sent = [
            cookie
            for cookie in self.cookies.values()
            if not cookie.secure and _path_matches(request_path, cookie.path)
        ]
        if not sent:
            return None
        sent.sort(key=lambda cookie: -len(cookie.path))
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in sent)


class Browser:
    """One browser's requests to an ASGI app. A bot run's participants share it (oTree gives
    each participant's bot a client of its own; the URLs a bot visits set no cookie, so
    nothing is shared in practice)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._cookies = CookieJar()

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one request for ``url`` (a path, or an absolute URL of the app) and return the
        answer, read in full; a redirect is returned, not followed. ``data`` is a form
        (``application/x-www-form-urlencoded``), ``content`` a body sent as it is.
        Raises what the app raises."""
        parts = urlsplit(url if url.startswith("/") else url.removeprefix(ORIGIN) or "/")
        raw_path = parts.path or "/"
        path = unquote(raw_path)
        sent: list[tuple[bytes, bytes]] = [(b"host", HOST.encode())]
        body = b""
        if data is not None:
            body = urlencode(list(data.items()), doseq=True).encode()
            sent.append((b"content-type", b"application/x-www-form-urlencoded"))
        elif content is not None:
            body = content
        if body or method == "POST":
            sent.append((b"content-length", str(len(body)).encode()))
        for name, value in (headers or {}).items():
            sent.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        cookie = self._cookies.header(path)
        if cookie is not None:
            sent.append((b"cookie", cookie.encode("latin-1")))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": raw_path.encode("ascii", errors="backslashreplace"),
            "query_string": parts.query.encode("ascii", errors="backslashreplace"),
            "root_path": "",
            "headers": sent,
            "server": (HOST, None),
            "client": CLIENT,
        }
        status = 0
        raw_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        received = False
        answered = asyncio.Event()

        async def receive() -> Message:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, raw_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                raw_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                if method != "HEAD":
                    chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answered.set()

        try:
            await self._app(scope, receive, send)
        finally:
            answered.set()
        response = Response(status, Headers(raw_headers), b"".join(chunks))
        for header in response.headers.set_cookies:
            self._cookies.store(header, path)
        return response

    async def get(self, url: str) -> Response:
        """``request("GET", url)``."""
        return await self.request("GET", url)

    async def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """``request("POST", url, ...)``."""
        return await self.request("POST", url, data=data, content=content, headers=headers)
