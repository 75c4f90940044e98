"""Bad input never becomes a 500: every route and every sample page's form, fuzzed.

The routes come from the running app (``app.routes``) and the REST API's own OpenAPI
document, so a new endpoint is fuzzed without editing this file: each path parameter gets
real codes and nasty text, each query parameter and body field (the spec's, and a few every
route family uses) nasty values, and each POST nasty bodies (broken JSON, NaN, huge integers,
deep nesting, lone surrogates, invalid UTF-8, wrong or missing content types, oversized and
chunked bodies). Each sample session config is then played to its end by its bots, and on
every page each form field is first posted with values no field may keep.

Asserted: no answer is 500 or more, and a refused request (any 4xx, or a page shown again
with errors) wrote nothing: row counts and the vars and configs are what they were.
Runs on the run's database (tests/databases.py), so on SQLite and, in the second pass, on
PostgreSQL.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import page_form
from server.bots.runner import BotRunner
from server.config import load_settings
from server.http.lazy_routes import LazyRoutes
from tests import databases

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# Values for JSON bodies: wrong types, extremes, text no database keeps, tag look-alikes.
JSON_VALUES: list[Any] = [
    None,
    True,
    -1,
    2**63 - 1,
    1.5e308,
    "",
    "x" * 20_000,
    "a\x00b",
    "9" * 40,
    [None, [1]],
    {},
    {"": None, "__grove__": "tuple", "v": [1]},
    {"a": {"b": {"c": [[["deep"]]]}}},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
]

# Values for query strings and form fields (text only).
TEXT_VALUES = ["", "-1", "9" * 20, "9" * 5000, "NaN", "٣", "x" * 5000, "a\x00b", "\ud800"]

# Path parameters besides the real codes and names.
PATH_VALUES = ["x", "9" * 30, "a" * 300, "%00", "%ED%A0%80", "%FF"]

MULTIPART_WITH_FILE = (
    b'--x\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n1\r\n--x--\r\n'
)

# Whole bodies: (content type or None, bytes).
RAW_BODIES: list[tuple[str | None, bytes]] = [
    (JSON, b""),
    (JSON, b"{"),
    (JSON, b"null"),
    (JSON, b"[]"),
    (JSON, b'"text"'),
    (JSON, b"1"),
    (JSON, b'{"a": NaN}'),
    (JSON, b'{"vars": {"a": Infinity}}'),
    (JSON, b'{"vars": {"a": -Infinity}}'),
    (JSON, b'{"vars": {"a": 1e999}}'),
    (JSON, b'{"vars": {"a": ' + b"9" * 5000 + b"}}"),
    (JSON, b'{"vars": {"a": ' + b"9" * 25 + b"}}"),
    (JSON, b'{"vars": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    (JSON, b'{"vars": ' + b'{"a":' * 150 + b"1" + b"}" * 150 + b"}"),
    (JSON, b'{"vars": {"a": "\\ud800"}}'),
    (JSON, b'{"vars": {"\\udc00": 1}}'),
    (JSON, b'{"vars": {"a": "\\u0000"}}'),
    (JSON, b'{"vars": {}, "vars": 1}'),
    (JSON, b'{"a.b.c": 1, "a": 2}'),
    (JSON, b"\xff\xfe{}"),
    (JSON, b'{"vars": {"a": "\xc3\x28"}}'),
    (JSON + "; charset=utf-16", '{"vars": {}}'.encode("utf-16")),
    (FORM, b"%%%&&&==\xff"),
    (FORM, b"vars.a=1&vars=2"),
    (FORM, b"a" + b".a" * 300 + b"=1"),
    (FORM, b"&".join(b"f%d=" % i for i in range(1200))),
    ("multipart/form-data", b"--x\r\n"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n1\r\n"),
    ("multipart/form-data; boundary=x", MULTIPART_WITH_FILE),
    ("text/plain", b"hello"),
    ("application/xml", b"<a/>"),
    (None, b'{"vars": {}}'),
    (JSON, b'{"vars": {"a": "' + b"x" * (1024 * 1024 + 10) + b'"}}'),
]

# Query and body field names every route family uses, beside the OpenAPI document's own.
COMMON_FIELDS = [
    "after",
    "token",
    "body",
    "wait",
    "participant_label",
    "hash",
    "config",
    "num_participants",
    "action",
]


# Tables whose purpose is to record refused requests: failed admin logins (the throttle).
RECORDS_REFUSALS = {"grove_login_attempts"}


def fingerprint(engine: sa.Engine) -> tuple[Any, ...]:
    """Row counts of every table, and the stored vars and configs: what a refused request
    must leave as it was."""
    names = sorted(set(sa.inspect(engine).get_table_names()) - RECORDS_REFUSALS)
    counts = ", ".join(f'(SELECT count(*) FROM "{name}")' for name in names)
    with engine.connect() as connection:
        row = tuple(connection.execute(sa.text(f"SELECT {counts}")).one())
        stored = connection.execute(
            sa.text(
                "SELECT code, CAST(vars AS TEXT), CAST(config AS TEXT), label "
                "FROM grove_session ORDER BY id"
            )
        ).all()
        people = connection.execute(
            sa.text("SELECT code, CAST(vars AS TEXT), label FROM grove_participant ORDER BY id")
        ).all()
    return names, row, stored, people


@dataclass
class Findings:
    """What the fuzz saw: server errors, refused requests that wrote, how many requests."""

    server_errors: list[str] = field(default_factory=list)
    refused_but_wrote: list[str] = field(default_factory=list)
    requests: int = 0

    def check(self) -> None:
        shown = self.server_errors[:40] + self.refused_but_wrote[:40]
        assert not shown, (
            f"{len(self.server_errors)} answers >= 500 and {len(self.refused_but_wrote)} "
            f"refused requests that wrote, of {self.requests}:\n" + "\n".join(shown)
        )


@dataclass
class World:
    """Real codes and names to put in paths, so requests get past the lookups."""

    session_codes: list[str]
    participant_codes: list[str]
    page_url: str
    chat_token: str
    configs: list[str]
    rooms: list[str]


def build_world(client: TestClient, configs: list[str], rooms: list[str]) -> World:
    sessions, participants = [], []
    for config in configs:
        created = client.post(
            "/api/sessions/", json={"session_config_name": config, "num_participants": None}
        )
        assert created.status_code == 200, created.text
        code = created.json()["code"]
        sessions.append(code)
        detail = client.get(f"/api/sessions/{code}").json()
        participants.extend(p["code"] for p in detail["participants"])
    token, page_url = "", ""
    for code in participants:
        started = client.get(f"/InitializeParticipant/{code}", follow_redirects=False)
        url = started.headers["location"].replace("http://testserver", "")
        html = client.get(url).text
        found = re.search(r'data-token="([^"]+)"', html)
        if found and not token:
            token = found[1]
        if "<form" in html and not page_url:
            page_url = url
    assert token
    assert page_url
    return World(sessions, participants, page_url, token, configs, rooms)


def path_values(name: str, world: World) -> list[str]:
    """What to put in the path parameter ``name``: real ones first, then nasty ones."""
    real: dict[str, list[str]] = {
        "code": [world.participant_codes[0], world.session_codes[0]],
        "config": world.configs[:1],
        "name": world.rooms[:1],
    }
    page = world.page_url.strip("/").split("/")
    real.update(app_name=[page[2]], page_name=[page[3]], index=[page[4]])
    return real.get(name, ["x"]) + PATH_VALUES


def routes_to_fuzz(app: Any, spec: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
    """(method, path template, field names) for every route of the app and the spec."""
    found: dict[tuple[str, str], set[str]] = {}

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                if route.path != "/grove_static" and route.path != "/static":
                    walk(route.routes, prefix + route.path)
            elif isinstance(route, LazyRoutes):  # the urn API's paths, built on first use
                walk(route.routes, prefix)
            elif isinstance(route, Route):
                # "/x/" is "/x" again (every API path has both): fuzzed once.
                path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", prefix + route.path)
                path = path.rstrip("/") or "/"
                for method in (route.methods or set()) - {"HEAD"}:
                    found.setdefault((method, path), set())

    walk(app.routes, "")
    schemas = spec.get("components", {}).get("schemas", {})
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] != "path"}
            for media in operation.get("requestBody", {}).get("content", {}).values():
                schema = media.get("schema", {})
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
                names |= set(schema.get("properties", {}))
            key = (method.upper(), path.rstrip("/") or "/")
            found.setdefault(key, set()).update(names)
    return [(method, path, names) for (method, path), names in sorted(found.items())]


def requests_for(
    method: str, template: str, names: set[str], world: World
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every request to send to one route: (url, keyword arguments of client.request)."""
    params = re.findall(r"\{(\w+)\}", template)

    def fill(choice: dict[str, str]) -> str:
        path = template
        for param in params:
            path = path.replace("{" + param + "}", choice[param])
        return path

    real = fill({p: path_values(p, world)[0] for p in params})
    for param in params:
        for value in path_values(param, world)[1:]:
            yield fill({p: value if p == param else path_values(p, world)[0] for p in params}), {}
    if len(params) and "code" in params:
        yield fill({p: path_values(p, world)[1 if p == "code" else 0] for p in params}), {}
    fields = sorted(names | set(COMMON_FIELDS))
    yield real, {}
    if method != "POST":
        for name in fields:
            for value in TEXT_VALUES:
                yield f"{real}?{_form_bytes({name: value}).decode()}", {}
        return
    for content_type, body in RAW_BODIES:
        headers = {"content-type": content_type} if content_type else {}
        yield real, {"content": body, "headers": headers}
    yield real, {"content": _chunks(2 * 1024 * 1024), "headers": {"content-type": FORM}}
    for name in fields:
        for value in JSON_VALUES:
            yield real, {"json": {name: value, "token": world.chat_token}}
        for value in TEXT_VALUES:
            yield real, {"content": _form_bytes({name: value}), "headers": {"content-type": FORM}}


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 65536):
        yield b"x" * 65536


def _form_bytes(values: dict[str, str]) -> bytes:
    """A form body; a lone surrogate or NUL is sent as the bytes a broken client would send."""
    return "&".join(
        f"{quote(k, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}"
        for k, v in values.items()
    ).encode("ascii")


def _send(
    client: TestClient,
    engine: sa.Engine,
    findings: Findings,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    before: tuple[Any, ...],
) -> tuple[Any, ...]:
    findings.requests += 1
    response = client.request(method, url, follow_redirects=False, **kwargs)
    shown = f"{method} {url[:120]} {str(kwargs)[:160]}"
    if response.status_code >= 500:
        findings.server_errors.append(f"{response.status_code} {shown}: {response.text[:200]}")
    after = fingerprint(engine)
    if 400 <= response.status_code < 500 and after != before:
        findings.refused_but_wrote.append(f"{response.status_code} {shown}")
    return after


@pytest.fixture
def settings_on_run_database(tmp_path: Path) -> Any:
    settings = load_settings(REPO_ROOT, {"DATABASE_URL": databases.database_url(tmp_path, "fuzz")})
    # No page times out while the fuzz runs: the timeout task's writes would look like the
    # writes of a refused request.
    return settings.with_changes(timeout_poll_seconds=3600)


def test_no_route_answers_bad_input_with_a_500(settings_on_run_database: Any) -> None:
    settings = settings_on_run_database
    app = create_app(settings)
    engine = databases.engine(settings.database_url)
    findings = Findings()
    started = time.perf_counter()
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            project = app.state.grove.project
            world = build_world(
                client,
                list(project.session_configs),
                [str(room["name"]) for room in settings.rooms],
            )
            spec = client.get("/api/openapi.json").json()
            routes = routes_to_fuzz(app, spec)
            assert len(routes) > 30
            state = fingerprint(engine)
            for method, template, names in routes:
                for url, kwargs in requests_for(method, template, names, world):
                    state = _send(client, engine, findings, method, url, kwargs, state)
    finally:
        engine.dispose()
        app.state.grove.db.dispose()
    print(
        f"fuzzed {len(routes)} routes with {findings.requests} requests in "
        f"{time.perf_counter() - started:.1f} s"
    )
    findings.check()


# Values no form field may keep, whatever its type: a NUL in text, and for numbers and
# choices what is no number or no choice.
ANY_FIELD_VALUES = ["\x00", "a\x00b"]
NUMBER_OR_CHOICE_VALUES = [
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "9" * 30,
    "9" * 5000,
    "--1",
    "0x10",
    "<b>",
    "None",
    "[]",
    "\ud800",
]


class FuzzingBots(BotRunner):
    """The config's bots, posting bad values into each field of each page before their own
    submission. A bad value the page accepts (a text field takes any text without a NUL)
    moves the participant on: the bot's own submission for that page is then skipped."""

    findings: Findings
    pages_fuzzed: set[str]
    accepted: list[str]
    # One participant's step at a time: a refused post is checked to have written nothing by
    # comparing the whole database before and after it.
    max_concurrent_steps = 1

    async def _submit(self, client, code, url, html, page_name, submission, result) -> None:
        valid = self._form_data(html, page_name, submission)
        form = page_form(html)
        bind = self._db.get_bind()  # a SQLite read session is bound to its kept connection
        engine = bind.engine if isinstance(bind, sa.Connection) else bind
        for name in form.names():
            kind = form.kind(name)
            if kind in ("hidden", "submit", "button"):
                continue
            values = ANY_FIELD_VALUES + (
                NUMBER_OR_CHOICE_VALUES if kind in ("number", "radio", "select") else []
            )
            for value in values:
                self._db.rollback()
                before = fingerprint(engine)
                self.findings.requests += 1
                body = _form_bytes({**valid, name: value})
                response = await client.post(url, content=body, headers={"content-type": FORM})
                shown = f"POST {url} {name}={value[:20]!r}"
                if response.status_code >= 500:
                    self.findings.server_errors.append(f"{response.status_code} {shown}")
                if response.status_code == 303:
                    self.pages_fuzzed.add(f"{self.config_name}:{page_name}")
                    self.accepted.append(f"{self.config_name}:{page_name} {name}={value[:20]!r}")
                    result.pages += 1
                    return
                if fingerprint(engine) != before:
                    self.findings.refused_but_wrote.append(f"{response.status_code} {shown}")
        self.pages_fuzzed.add(f"{self.config_name}:{page_name}")
        for content_type, body in [
            (FORM, b"x=" + b"y" * (1024 * 1024 + 1)),
            ("multipart/form-data; boundary=x", MULTIPART_WITH_FILE),
            ("text/plain", b"\xff\xfe"),
        ]:
            self.findings.requests += 1
            response = await client.post(url, content=body, headers={"content-type": content_type})
            if response.status_code >= 500:
                self.findings.server_errors.append(
                    f"{response.status_code} POST {url} {content_type}"
                )
            if response.status_code == 303:
                return
        await super()._submit(client, code, url, html, page_name, submission, result)


def test_no_sample_page_answers_bad_form_values_with_a_500(tmp_path: Path) -> None:
    settings = load_settings(REPO_ROOT, {})
    findings = Findings()
    pages: set[str] = set()
    started = time.perf_counter()
    for config in load_project_configs(settings):
        runner = FuzzingBots(
            settings, config, None, database_url=databases.database_url(tmp_path, config)
        )
        runner.findings = findings
        runner.pages_fuzzed = pages
        runner.accepted = []
        result = runner.run()
        accepted = [page for page in runner.accepted if page.startswith(f"{config}:")]
        # A bad value a page accepted moved its participant on, and a bot's later expect may
        # then fail: that is no server error, but it ends the config's fuzz early.
        assert result.ok, f"{config}: {result.error} (bad values accepted: {accepted})"
    print(
        f"fuzzed {len(pages)} pages with {findings.requests} posts in "
        f"{time.perf_counter() - started:.1f} s"
    )
    findings.check()
    assert {"survey:Demographics", "trust:Send", "public_goods:Contribute"} <= pages, pages


def load_project_configs(settings: Any) -> list[str]:
    from server.project import load_project

    return list(load_project(settings).session_configs)
