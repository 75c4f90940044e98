"""Authentication of /api/ requests, before the body is read.

oTree's rule: at auth level DEMO or STUDY every request needs ``otree-rest-key`` equal to
OTREE_REST_KEY. Grove's stricter rule: whenever OTREE_REST_KEY is set, any per-user key
exists or the server runs in production (OTREE_PRODUCTION), a valid key is required, whatever
the auth level; in production with no key configured at all the API is closed (it would
otherwise hand out every participant's data while the admin pages ask for a login). Keys
are accepted as the ``otree-rest-key`` header, ``Authorization: Bearer <key>`` or an
``api_key`` query parameter.

Every key has a scope (``server/api_keys.py``'s SCOPES): ``read``, ``write`` or ``admin``;
OTREE_REST_KEY is ``admin``. Each endpoint declares the least scope it needs
(``Endpoint.required_scope``); a key below it is refused with 403. The admin API
(``/admin/api/v1/``) always needs a key: it is never open, whatever the auth level.
"""

from __future__ import annotations

import contextlib
import hmac
from dataclasses import dataclass

from starlette.requests import Request

from server.api_keys import Scope, identify_key, note_key_used, scope_allows
from server.audit_log import SERVER_KEY, UNIDENTIFIED
from server.errors import GroveError
from server.http.context import grove
from server.rest.errors import RequestError

REST_KEY_USER = SERVER_KEY


@dataclass(frozen=True)
class Caller:
    """Who made an API request (None when the API is open and no key was sent), and what
    their key may do (an open API allows everything, as oTree's does)."""

    user: str | None
    scope: Scope = "admin"

    @property
    def who(self) -> str:
        """The name the audit log records this caller's changes under: the key's user, or
        ``anonymous`` on an open API without a key."""
        return self.user or UNIDENTIFIED


def require_scope(caller: Caller, needed: Scope, operation: str) -> None:
    """RequestError 403 unless the caller's key scope covers ``needed``."""
    if not scope_allows(caller.scope, needed):
        raise RequestError(
            403, f"this key's scope is {caller.scope!r}; {operation} needs a {needed!r} key"
        )


def presented_key(request: Request) -> str | None:
    """The key sent with the request, wherever it was put."""
    header = request.headers.get("otree-rest-key")
    if header:
        return header
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return request.query_params.get("api_key") or None


def settings_key_caller(request: Request) -> Caller | None:
    """The caller when the request carries OTREE_REST_KEY (no database needed), else None."""
    settings = grove(request).settings
    key = presented_key(request)
    if (
        key is not None
        and settings.rest_key
        and hmac.compare_digest(key.encode(), settings.rest_key.encode())
    ):
        return Caller(REST_KEY_USER)
    return None


def authenticate(request: Request, status: int = 403, *, key_required: bool = False) -> Caller:
    """Check the request's key; RequestError(status) if one is needed and not valid.

    ``key_required``: a key is needed even where the REST API is open (the admin API).
    """
    app = grove(request)
    settings = app.settings
    by_settings_key = settings_key_caller(request)
    if by_settings_key is not None:
        return by_settings_key
    key = presented_key(request)
    found, keys_exist = identify_key(app.db, key)
    if found is not None:
        with contextlib.suppress(GroveError):  # best effort: the keys page's "Last used"
            note_key_used(app.db, found)
        return Caller(found.user, found.scope)
    if not (key_required or settings.api_key_required or keys_exist):
        return Caller(None)
    if not settings.rest_key and not keys_exist:
        raise RequestError(
            status,
            "The REST API needs a key and none is configured: set OTREE_REST_KEY, or create "
            "one with `python -m server apikey create <user>`",
        )
    if key is None:
        raise RequestError(
            status,
            "Missing otree-rest-key header (or Authorization: Bearer KEY, or api_key in the URL's "
            "query string; a key in the request body is not read)",
        )
    raise RequestError(status, "Invalid otree-rest-key")
