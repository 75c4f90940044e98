"""Requests to a host the server does not serve refused first (``settings.allowed_hosts``).

Starlette's TrustedHostMiddleware decides (its host patterns, ``*.example.org``, its
``www.`` redirect, its 400 "Invalid host header" and a socket's denial); Grove's middleware
asks it before any other job, so a refused request loads no admin cookie and notes no
participant as seen, while its 400 still passes through the middleware's ``send`` and
carries the security headers.
"""

from __future__ import annotations

import logging

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import Receive, Scope, Send

from server.config import Settings

_PASSED = "grove.host_allowed"


class HostCheck:
    """TrustedHostMiddleware's verdict on one connection, as a yes or no."""

    def __init__(self, allowed_hosts: list[str]) -> None:
        self._middleware = TrustedHostMiddleware(_note_passed, allowed_hosts=allowed_hosts)

    async def allows(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """True if the connection's Host is served; otherwise it has been answered (a 400, a
        redirect to the ``www.`` host, or a socket's denial) through ``send``."""
        await self._middleware(scope, receive, send)
        return bool(scope.pop(_PASSED, False))


async def _note_passed(scope: Scope, _receive: Receive, _send: Send) -> None:
    scope[_PASSED] = True


def host_check(settings: Settings) -> HostCheck | None:
    """The check of ``settings.allowed_hosts``, or None when they name none (any host is
    served). Logs a warning in production when no host is named."""
    if settings.allowed_hosts:
        return HostCheck(list(settings.allowed_hosts))
    if settings.production:
        logging.getLogger("grove").warning(
            "No allowed hosts are set: the server answers to any Host header. Set "
            "GROVE_ALLOWED_HOSTS (e.g. lab.example.org) or ALLOWED_HOSTS in settings.py."
        )
    return None
