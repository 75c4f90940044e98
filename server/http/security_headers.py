"""Security headers on every response, by route family (added by ``server/http/middleware.py``).

* Every response: ``X-Content-Type-Options: nosniff`` (a JSON answer or an uploaded text is
  never run as a script) and ``Referrer-Policy: same-origin`` (a participant link, which holds
  the participant's code, never reaches another site in a Referer header).
* Admin pages (:data:`ADMIN_PATHS`, Grove's own templates): a strict Content-Security-Policy
  that allows only Grove's own files: no inline script or style, no other origin, no framing
  (clickjacking), forms posted only to Grove. The admin templates have no inline code.
* Participant pages (everything else): only ``frame-ancestors 'self'`` (and the older
  ``X-Frame-Options: SAMEORIGIN``): an oTree project's templates use inline ``<script>`` and
  ``onclick`` handlers, which a script policy would break, while framing stays allowed for the
  admin's own split view (participants side by side in iframes of the same origin).

A header a route has already set is left as it is.
"""

from __future__ import annotations

# Each path and everything below it.
ADMIN_PATHS = (
    "/login",
    "/logout",
    "/sessions",
    "/SessionStartLinks",
    "/SessionPayments",
    "/SessionMonitor",
    "/SessionData",
    "/SessionReport",
    "/apikeys",
    "/rooms",
    "/SessionChat",
    "/demo",
    "/export",
    "/api/docs",
    "/admin/api",
)
ADMIN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PARTICIPANT_CONTENT_SECURITY_POLICY = "frame-ancestors 'self'"
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


_ADMIN_EXACT = frozenset(ADMIN_PATHS)
_ADMIN_PREFIXES = tuple(admin + "/" for admin in ADMIN_PATHS)


def is_admin_path(path: str) -> bool:
    """Is this one of the admin area's URLs (strict policy), not a participant's?"""
    return path in _ADMIN_EXACT or path.startswith(_ADMIN_PREFIXES)


def headers_for(path: str) -> dict[str, str]:
    """The security headers a response to ``path`` gets (names as sent)."""
    if is_admin_path(path):
        framing = {
            "Content-Security-Policy": ADMIN_CONTENT_SECURITY_POLICY,
            "X-Frame-Options": "DENY",
            # Session data, links and keys: not kept by the browser or a proxy after logout.
            "Cache-Control": "no-store",
        }
    else:
        framing = {
            "Content-Security-Policy": PARTICIPANT_CONTENT_SECURITY_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
        }
    return {**COMMON_HEADERS, **framing}


RawHeaders = list[tuple[bytes, bytes]]


def _raw(headers: dict[str, str]) -> RawHeaders:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


# :func:`headers_for` of each route family, as ASGI header pairs, built once.
ADMIN_RAW_HEADERS = _raw(headers_for(ADMIN_PATHS[0]))
PARTICIPANT_RAW_HEADERS = _raw(headers_for("/"))


def raw_headers_for(path: str) -> RawHeaders:
    """:func:`headers_for` ``path`` as ASGI ``(name, value)`` byte pairs (lower-case names);
    the list is shared: do not change it."""
    return ADMIN_RAW_HEADERS if is_admin_path(path) else PARTICIPANT_RAW_HEADERS


def add_security_headers(headers: RawHeaders, wanted: RawHeaders) -> None:
    """Append to a response start message's ``headers`` each of ``wanted`` it does not
    already have (a header a route set is left as it is)."""
    present = {name for name, _ in headers}
    if present.isdisjoint(name for name, _ in wanted):
        headers.extend(wanted)
        return
    headers.extend(pair for pair in wanted if pair[0] not in present)
