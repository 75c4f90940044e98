"""``python -m server api``: the admin API (``/admin/api/v1/``) from the command line, with
the uproot reference's options (``--url/-u``, ``--auth/-a``, ``--method/-X``, ``--data/-d``).

    python -m server api [-u URL] [-a KEY] [-X METHOD] PATH [-d JSON] [--query k=v ...] [-o FILE]

PATH is relative to ``/admin/api/v1/`` (``sessions``, ``session/ABC/players``) and may carry
a query string; each ``--query k=v`` is added to it. The key comes from ``-a`` or
``$GROVE_API_KEY`` and is sent as ``Authorization: Bearer``. ``-d`` is a JSON body (``-d
@file.json`` reads a file). A JSON answer is printed indented; a paginated one (an answer with
``next_page``) is fetched page by page and its lists joined, unless ``--one-page``. Any other
answer (a CSV export) is written as it comes, to ``-o FILE`` or standard output. A 4xx or 5xx
answer prints its error message to standard error and exits with 1; a bad argument exits
with 2. It talks HTTP only: it needs no project folder.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import httpx2

API_ROOT = "/admin/api/v1/"
DEFAULT_URL = "http://127.0.0.1:8000/"
KEY_VARIABLE = "GROVE_API_KEY"
MAX_PAGES = 10_000
TIMEOUT_SECONDS = 120.0

ClientFactory = Callable[[str], httpx2.Client]
METHOD = re.compile(r"[A-Z]+")


class UsageError(Exception):
    """A bad argument (exit status 2)."""


class ApiError(Exception):
    """The server refused or failed (exit status 1): ``status`` 0 when it could not be
    reached."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def api_key(raw: str) -> str:
    """The key without the whitespace a file or a copy adds (a final newline, a Windows
    ``\\r``); UsageError for anything a header cannot carry (keys are ASCII)."""
    key = raw.strip()
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise UsageError(
            f"the API key (-a or ${KEY_VARIABLE}) must be one word of ASCII characters, "
            "as python -m server apikey create prints it"
        )
    return key


def server_url(base: str) -> str:
    """``base`` if it is an ``http(s)://host[:port][/sub/]`` URL; UsageError otherwise."""
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018  (reading it checks it: a port that is no number raises)
    except ValueError as exc:
        raise UsageError(f"--url {base!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url must be an http:// or https:// URL with a host, not {base!r}")
    return base


def api_url(base: str, path: str) -> str:
    """``base`` (a server, maybe in a subdirectory) joined with ``/admin/api/v1/`` and
    ``path`` (its query string cut off: see ``query_pairs``)."""
    relative = urlsplit(path).path.lstrip("/")
    if relative.startswith(API_ROOT.lstrip("/")):
        relative = relative[len(API_ROOT) - 1 :]
    return base.rstrip("/") + API_ROOT + relative


def query_pairs(path: str, extra: Sequence[str]) -> list[tuple[str, str]]:
    """The query string of ``path`` followed by each ``k=v`` of ``extra``."""
    pairs = parse_qsl(urlsplit(path).query, keep_blank_values=True)
    for item in extra:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise UsageError(f"--query takes name=value, not {item!r}")
        pairs.append((name, value))
    return pairs


def json_body(data: str | None) -> Any:
    """The ``-d`` argument as JSON (``@file`` reads the file); None without one."""
    if data is None:
        return None
    text = data
    if data.startswith("@"):
        try:
            text = Path(data[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {data[1:]}: {exc.strerror}") from None
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--data is not JSON: {exc}") from None


def _not_json(constant: str) -> Any:
    raise UsageError(f"--data is not JSON: {constant} is not a JSON value")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise UsageError(f"--data is not JSON: {text} is too large for a JSON number")
    return number


def error_message(response: httpx2.Response) -> str:
    """What a refusal says: the JSON error's message, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return json.dumps(body)[:500]


def merge_pages(pages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pages of one list as one answer: the first page's fields, every list field joined,
    ``next_page`` null."""
    merged = dict(pages[0])
    for page in pages[1:]:
        for name, value in page.items():
            if isinstance(value, list) and isinstance(merged.get(name), list):
                merged[name] = merged[name] + value
    merged["next_page"] = None
    return merged


def _default_client(base: str) -> httpx2.Client:
    return httpx2.Client(timeout=TIMEOUT_SECONDS, follow_redirects=True)


@contextmanager
def _answer(
    client: httpx2.Client,
    method: str,
    url: str,
    params: list[tuple[str, str]],
    body: Any,
    headers: dict[str, str],
) -> Iterator[httpx2.Response]:
    try:
        query = httpx2.QueryParams(tuple(params))
        # A redirect is followed for reading only: a 301/302 turns a POST into a GET (an
        # http:// URL sent on to https:// would list sessions instead of creating one).
        with client.stream(
            method,
            url,
            params=query,
            headers=headers,
            json=body,
            follow_redirects=method in ("GET", "HEAD"),
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise ApiError(response.status_code, error_message(response))
            if response.is_redirect:
                where = response.headers.get("location", "")
                raise ApiError(
                    response.status_code,
                    f"the server sends {method} {url} on to {where}: give that address "
                    "with -u (a redirect is followed for GET only, as it would turn this "
                    "request into a GET)",
                )
            yield response
    except httpx2.TransportError as exc:
        raise ApiError(0, f"cannot reach {url}: {exc}") from None
    except httpx2.InvalidURL as exc:
        raise UsageError(f"not a valid URL: {url}: {exc}") from None


def _json_answer(response: httpx2.Response) -> Any:
    """The body of an answer labelled JSON; ApiError when it is not (a proxy's HTML page
    with the wrong type, a body cut off)."""
    text = response.read()
    try:
        return json.loads(text)
    except ValueError:
        start = text[:200].decode("utf-8", "replace").strip()
        raise ApiError(
            response.status_code,
            f"the answer says it is JSON but is not (is a proxy in the way?): {start!r}",
        ) from None


def call_api(
    options: argparse.Namespace, out: IO[bytes], client_factory: ClientFactory = _default_client
) -> None:
    """Run one ``api`` command: request, follow pages, write the answer to ``out``. Raises
    UsageError, ApiError."""
    key = api_key(options.auth or os.environ.get(KEY_VARIABLE, ""))
    headers = {"Accept": "application/json, text/csv;q=0.9, */*;q=0.5"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    method = options.method.upper()
    if not METHOD.fullmatch(method):
        raise UsageError(f"--method must be an HTTP method such as GET or POST, not {method!r}")
    url = api_url(server_url(options.url), options.path)
    params = query_pairs(options.path, options.query)
    body = json_body(options.data)
    with client_factory(options.url) as client:
        try:
            with _answer(client, method, url, params, body, headers) as response:
                if "json" not in response.headers.get("content-type", ""):
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                    return
                first = _json_answer(response)
        except ApiError as exc:
            if exc.status == 401 and not key:
                raise ApiError(
                    401, f"{exc} (no key was sent: give -a KEY or set ${KEY_VARIABLE})"
                ) from None
            raise
        pages = [first]
        while (
            method == "GET"
            and not options.one_page
            and isinstance(pages[-1], dict)
            and isinstance(pages[-1].get("next_page"), int)
            and len(pages) < MAX_PAGES
        ):
            following = [(k, v) for k, v in params if k != "page"]
            following.append(("page", str(pages[-1]["next_page"])))
            with _answer(client, method, url, following, body, headers) as response:
                pages.append(_json_answer(response))
    answer = merge_pages(pages) if len(pages) > 1 else first
    out.write((json.dumps(answer, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def _call_api_into(options: argparse.Namespace, target: Path) -> None:
    """``call_api`` writing to ``target`` only once the answer is complete: a refused or
    broken call leaves an existing file as it was (a wrong session code must not empty
    yesterday's export). A symbolic link (``/dev/stdout``) or anything else but a regular
    file (a pipe) is written through, as the answer comes, and never replaced."""
    if target.is_symlink() or (target.exists() and not target.is_file()):
        with open(target, "wb") as out:
            call_api(options, out)
        return
    partial = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed below, renamed or removed)
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    )
    try:
        with partial:
            call_api(options, partial)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial.name, 0o666 & ~umask)  # as open() would have made it
        os.replace(partial.name, target)
    except BaseException:
        Path(partial.name).unlink(missing_ok=True)
        raise


def api(options: argparse.Namespace) -> int:
    """The ``api`` command: exit status 0, 1 (the server refused or failed) or 2 (usage)."""
    try:
        if options.output:
            _call_api_into(options, Path(options.output))
        else:
            call_api(options, sys.stdout.buffer)
            sys.stdout.flush()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        where = f"HTTP {exc.status}: " if exc.status else ""
        print(f"error: {where}{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write {options.output}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the api command."""
    parser = subparsers.add_parser(
        "api",
        help="call the admin API (/admin/api/v1/) of a running server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", help="relative to /admin/api/v1/, e.g. sessions or session/X/")
    parser.add_argument("-u", "--url", default=DEFAULT_URL, help=f"server (default {DEFAULT_URL})")
    parser.add_argument("-a", "--auth", help=f"API key (default ${KEY_VARIABLE})")
    parser.add_argument("-X", "--method", default="GET", help="HTTP method (default GET)")
    parser.add_argument("-d", "--data", help="JSON body, or @file.json")
    parser.add_argument(
        "--query", action="append", default=[], metavar="NAME=VALUE", help="a query parameter"
    )
    parser.add_argument("-o", "--output", help="write the answer to this file")
    parser.add_argument(
        "--one-page", action="store_true", help="a paginated list: only the page asked for"
    )
    parser.set_defaults(handler=api)
