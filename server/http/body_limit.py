"""A size limit on every request body, before any route parses it.

The REST API read its bodies with a limit, but a participant page's form, a chat post, a room
form or an admin form was parsed whatever its size (a 150 MB form body was). The check (in
``server/http/middleware.py``) gives every route the API's limit (``Settings.max_body_bytes``,
1 MiB by default, ``GROVE_MAX_BODY_BYTES``): a declared ``Content-Length`` over it is refused
before the body is read, and a body sent without one (chunked) is counted as it streams and
refused as soon as it passes the limit. Either way the answer is a 413 in the route family's
shape (a JSON error for the APIs, chat and status URLs; an HTML page for participants), and no
route has run.

How many fields a form may have is Starlette's to limit (``request.form``'s ``max_fields``,
1,000 by default; a multipart form over it is a 400); ``MAX_FORM_FILES`` says forms carry no
files.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

# No Grove form has a file input: a multipart part with a file name is refused (400).
MAX_FORM_FILES = 0


def too_large_message(limit: int) -> str:
    """What a 413 says."""
    return f"The request body is larger than {limit} bytes."


def declared_length_refusal(declared: str | None, max_bytes: int) -> tuple[int, str] | None:
    """``(status, message)`` for a ``Content-Length`` header (``declared``, None if absent)
    that is not a number (400) or is over ``max_bytes`` (413); None if it passes."""
    if declared is None:
        return None
    text = declared.strip()
    if not (text.isascii() and text.isdigit()):
        return 400, "Content-Length is not a number."
    if len(text) > 18 or int(text) > max_bytes:
        return 413, too_large_message(max_bytes)
    return None


def counting_receive(receive: Receive, limit: int) -> Receive:
    """``receive``, raising HTTPException(413) once the request's body passes ``limit`` bytes
    (Starlette's exception handlers turn it into the route family's 413)."""
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, too_large_message(limit))
        return message

    return counted
