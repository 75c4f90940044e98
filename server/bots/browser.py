"""The bots' browser: each request handed to the app in this process by httpx2's ASGI
transport, in this thread's event loop.

httpx2 builds the request (a form encoded as a browser encodes it), the ASGI scope and the
answer; what its ``AsyncClient`` adds around the transport is not needed here and was about a
tenth of a bot page's CPU: joining a base URL, auth, building the next request of every
redirect (the runner follows redirects itself, checking each URL it lands on), timeouts and
event hooks. Cookies are kept as a browser keeps them: what the app sets is sent back.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx2
from starlette.types import ASGIApp

ORIGIN = "http://testserver"


class Browser:
    """One browser's requests to an ASGI app. A bot run's participants share it, as they
    shared httpx2's AsyncClient before (oTree gives each participant's bot a client of its
    own; the URLs a bot visits set no cookie, so nothing is shared in practice)."""

    def __init__(self, app: ASGIApp) -> None:
        self._transport = httpx2.ASGITransport(app=app)
        self._cookies = httpx2.Cookies()

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        """Send one request for ``url`` (a path, or an absolute URL of the app) and return the
        answer, read in full; a redirect is returned, not followed. ``data`` is a form
        (``application/x-www-form-urlencoded``), ``content`` a body sent as it is.
        Raises what the app raises."""
        request = httpx2.Request(
            method,
            ORIGIN + url if url.startswith("/") else url,
            data=data,
            content=content,
            headers=headers,
        )
        if self._cookies:
            self._cookies.set_cookie_header(request)
        response = await self._transport.handle_async_request(request)
        response.request = request
        await response.aread()
        if "set-cookie" in response.headers:
            self._cookies.extract_cookies(response)
        return response

    async def get(self, url: str) -> httpx2.Response:
        """``request("GET", url)``."""
        return await self.request("GET", url)

    async def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        """``request("POST", url, ...)``."""
        return await self.request("POST", url, data=data, content=content, headers=headers)
