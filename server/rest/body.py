"""Reading API request bodies: JSON, form-encoded or query string, Qualtrics-style.

Qualtrics' web service sends JSON whose keys may use dots (``vars.age``), or a form body, or
only query parameters; every value is a string. All of these become one plain dict:
``vars.age=25`` and ``{"vars.age": "25"}`` both mean ``{"vars": {"age": "25"}}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from server.http.json_input import MAX_DEPTH, JSONInputError, loads_strict
from server.rest.errors import RequestError
from server.storable_text import unstorable_character, unstorable_strings

FORM_TYPE = "application/x-www-form-urlencoded"


def expand_dotted(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """``[("vars.age", "25")]`` -> ``{"vars": {"age": "25"}}``; plain keys stay as they are."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key.count(".") >= MAX_DEPTH:
            raise RequestError(400, f"the field name {key[:40]}... has more than {MAX_DEPTH} dots")
        if "." in key:
            head, rest = key.split(".", 1)
            target = result.setdefault(head, {})
            if not isinstance(target, dict):
                raise RequestError(400, f"{head!r} is given both as a value and as {key!r}", head)
            nested = expand_dotted([(rest, value)])
            _merge(target, nested)
        else:
            if key in result and isinstance(result[key], dict) and isinstance(value, dict):
                _merge(result[key], value)
            else:
                result[key] = value
    return result


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise RequestError(413, f"request body is larger than {limit} bytes")
        except ValueError:
            raise RequestError(400, "Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _repeated_as_lists(pairs: list[tuple[str, str]]) -> list[tuple[str, Any]]:
    """A key given more than once in the query string (``?fields=a&fields=b``, how FastAPI's
    and uproot's clients send a list) becomes one list; a key given once stays text."""
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    return [(key, found[0] if len(found) == 1 else found) for key, found in values.items()]


def _utf8_pairs(text: str, where: str) -> list[tuple[str, str]]:
    """The ``name=value`` pairs of a form body or query string, their percent-escapes read as
    UTF-8; RequestError 400 for escapes that are not UTF-8 (``caf%E9``, Latin-1), which
    ``parse_qsl``'s default would store as U+FFFD, losing what was sent."""
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise RequestError(
            400, f"the {where} has percent-escapes that are not UTF-8: send UTF-8 text"
        ) from None


def _is_json(content_type: str) -> bool:
    return content_type in ("application/json", "") or content_type.endswith("+json")


def _looks_like_json(text: str) -> bool:
    """A form-typed body that is a JSON object: ``curl -d '{"config": "trust"}'`` without
    ``-H 'Content-Type: application/json'`` sends form's type. oTree reads any body as JSON, so
    its users' curl lines do this; no form has a field whose name starts with ``{``. The same
    for a JSON object sent as ``text/plain`` (``fetch`` with a string body and no
    Content-Type, .NET's ``StringContent``, Qualtrics' "Plain Text" body)."""
    return text.lstrip().startswith("{")


# Types whose body is read as JSON when it is a JSON object (``_looks_like_json``).
JSON_WHEN_AN_OBJECT = (FORM_TYPE, "text/plain")


async def read_parameters(request: Request, limit: int) -> dict[str, Any]:
    """The request's parameters: query string merged under a JSON or form body. A query
    key given more than once is a list.

    A form-typed or plain-text body that is a JSON object (curl's ``-d '{...}'`` without a
    Content-Type; ``fetch`` with a string body) is read as JSON, as oTree reads it.

    RequestError 400 for a string no database can store (a NUL character anywhere, or a lone
    surrogate from a JSON escape), whatever the field, and for JSON that
    ``server.http.json_input.loads_strict`` refuses (NaN, integers beyond 64 bits, more than
    100 levels of nesting); 413 for a body over ``limit`` bytes. Nothing of such a request is
    written.
    """
    query_string = request.scope.get("query_string", b"").decode("latin-1")
    query_pairs = (
        _repeated_as_lists(
            [(k, v) for k, v in _utf8_pairs(query_string, "query string") if k != "api_key"]
        )
        if query_string
        else []
    )
    raw = await _read_limited(request, limit)
    body: dict[str, Any] = {}
    # A JSON text with no \u escape and no unstorable character holds no unstorable string
    # (a raw NUL is not valid JSON): then only the query's values need looking at.
    body_storable = False
    if raw.strip():
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(400, "the request body is not valid UTF-8") from None
        if _is_json(content_type) or (
            content_type in JSON_WHEN_AN_OBJECT and _looks_like_json(text)
        ):
            try:
                parsed = loads_strict(text)
            except JSONInputError as exc:
                raise RequestError(400, str(exc), exc.field) from None
            if not isinstance(parsed, dict):
                raise RequestError(
                    400, f"the JSON body must be an object, not {type(parsed).__name__}"
                )
            body = expand_dotted(parsed.items())
            body_storable = "\\u" not in text and unstorable_character(text) is None
        elif content_type == FORM_TYPE:
            pairs = [(k, v) for k, v in _utf8_pairs(text, "form body") if k != "api_key"]
            body = expand_dotted(pairs)
        else:
            raise RequestError(
                415,
                f"unsupported Content-Type {content_type!r}: send application/json or {FORM_TYPE}",
            )
    params = expand_dotted(query_pairs)
    _merge(params, body)
    unstorable = (
        next(unstorable_strings(params), None) if query_pairs or not body_storable else None
    )
    if unstorable is not None:
        field, message = unstorable
        raise RequestError(400, message, field or None)
    return params
