"""NUL characters, lone surrogates and over-long codes in every place a request carries text.

Shared by the fast suite (SQLite, in process) and the PostgreSQL suite (a live server with two
workers), where NUL really fails: each case is a request and the answer it must get, in the
shape of its route family, with nothing written.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

LONG = "x" * 5000  # longer than any code, label or name Grove stores
NUL_FIELD_ERROR = "This field cannot contain a NUL character."


@dataclass(frozen=True)
class World:
    """The codes and URLs of one set of sessions that every case points into."""

    session: str  # a survey session
    participant: str  # its participant, on the Attitudes page
    attitudes: str  # that page's URL
    join: str  # the survey session's join code
    chat: str  # a prisoner participant's code, on a page with a chat box
    token: str  # that chat box's token
    wait_page: str  # a trustee's wait page URL
    trial: str  # a randomized_trial session (urn randomization)


def build_world(client: Any) -> World:
    """Create the sessions through the REST API and move participants where the cases need."""

    def create(config: str, n: int) -> tuple[str, list[str]]:
        created = client.post(
            "/api/sessions/", json={"session_config_name": config, "num_participants": n}
        )
        assert created.status_code == 200, created.text
        code = created.json()["code"]
        detail = client.get(f"/api/sessions/{code}").json()
        return code, [p["code"] for p in detail["participants"]]

    def start(code: str) -> str:
        response = client.get(f"/InitializeParticipant/{code}", follow_redirects=False)
        assert response.status_code == 303, response.text
        return response.headers["location"].replace("http://testserver", "")

    survey, (participant,) = create("survey", 1)
    demographics = start(participant)
    attitudes = client.post(
        demographics,
        data={"age": "30", "gender": "Female", "temperature": "1", "year_in_school": "Junior"},
        follow_redirects=False,
    ).headers["location"]
    assert "/Attitudes/" in attitudes
    join = client.get(f"/api/sessions/{survey}").json()["session_wide_url"].rsplit("/", 1)[-1]

    _prisoner, chatters = create("prisoner", 2)
    decision = client.get(start(chatters[0])).text
    token = re.search(r'data-token="([^"]+)"', decision).group(1)

    _trust, (_trustor, trustee) = create("trust", 2)
    wait_page = start(trustee)
    assert "Wait" in wait_page
    client.get(wait_page)  # arrive: the status URL now answers for a real wait page

    trial, _ = create("randomized_trial", 2)
    return World(survey, participant, attitudes, join, chatters[0], token, wait_page, trial)


@dataclass(frozen=True)
class Case:
    """One request and what it must get: ``shape`` is "page" (an HTML error page), "form"
    (the page again, with ``message`` beside ``field``), "json" (the API's error body) or
    "reference" (the reference urn API's body)."""

    id: str
    method: str
    path: str  # "{name}" is replaced by the World's field of that name
    shape: str
    status: int
    message: str = ""
    json: Any = None
    data: dict[str, str] | None = None
    content: str | None = None  # a JSON text, for escapes (lone surrogates) json= cannot send
    cookies: dict[str, str] = field(default_factory=dict)
    field: str | None = None

    def request(self, world: World) -> dict[str, Any]:
        """The keyword arguments of ``client.request`` for this case."""
        kwargs: dict[str, Any] = {"follow_redirects": False}
        if self.json is not None:
            kwargs["json"] = _fill(self.json, world)
        if self.data is not None:
            kwargs["data"] = _fill(self.data, world)
        if self.content is not None:
            kwargs["content"] = _fill(self.content, world)
            kwargs["headers"] = {"content-type": "application/json"}
        if self.cookies:
            # A raw header: a client's cookie jar refuses the quoted octal escape a browser
            # (or a script) can send, which the server unquotes to NUL.
            kwargs.setdefault("headers", {})["cookie"] = "; ".join(
                f"{k}={v}" for k, v in self.cookies.items()
            )
        return kwargs


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str):
        for name, replacement in asdict(world).items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {_fill(k, world): _fill(v, world) for k, v in value.items()}
    return value


def _surrogate_json(**values: str) -> str:
    """A JSON object whose "\\ud800" strings arrive as lone surrogates after decoding."""
    return json.dumps({k: v.replace("SURROGATE", "\ud800") for k, v in values.items()})


ATTITUDES = {
    "savings": "40",
    "satisfaction": "4",
    "likes_experiments": "True",
    "nickname": "Alice",
    "comments": "fine",
}


def _attitudes(**changes: str) -> dict[str, str]:
    return {**ATTITUDES, **changes}


PAGE, FORM, JSON, REFERENCE = "page", "form", "json", "reference"
NUL_PATH = "a code or name cannot contain a NUL character"

CASES = [
    # Participant pages, the session-wide link and the room-less start link: no login.
    Case("page-code-nul", "GET", "/p/%00/survey/Demographics/1", PAGE, 404, NUL_PATH),
    Case("page-code-suffix-nul", "GET", "/p/{participant}%00/survey/Attitudes/2", PAGE, 404),
    Case("page-app-nul", "GET", "/p/{participant}/survey%00/Attitudes/2", PAGE, 404, NUL_PATH),
    Case("page-post-code-nul", "POST", "/p/%00/survey/Attitudes/2", PAGE, 404, data=ATTITUDES),
    Case("page-query-nul", "GET", "{attitudes}?x=%00", PAGE, 400, "cannot contain a NUL"),
    Case("page-code-long", "GET", f"/p/{LONG}/survey/Demographics/1", PAGE, 404),
    Case("finished-nul", "GET", "/p/%00/finished", PAGE, 404, NUL_PATH),
    Case("finished-long", "GET", f"/p/{LONG}/finished", PAGE, 404),
    Case("initialize-nul", "GET", "/InitializeParticipant/%00", PAGE, 404, NUL_PATH),
    Case("initialize-long", "GET", f"/InitializeParticipant/{LONG}", PAGE, 404),
    Case("join-get-nul", "GET", "/join/%00", PAGE, 404, NUL_PATH),
    Case("join-post-nul", "POST", "/join/%00", PAGE, 404, NUL_PATH),
    Case("join-long", "POST", f"/join/{LONG}", PAGE, 404),
    Case(
        "join-cookie-nul",
        "POST",
        "/join/{join}",
        PAGE,
        400,
        "cookie grove_browser is damaged",
        cookies={"grove_browser": '"a\\000b"'},
    ),
    Case("links-nul", "GET", "/SessionStartLinks/%00", PAGE, 404, NUL_PATH),
    Case("demo-nul", "POST", "/demo/%00", PAGE, 404, NUL_PATH),
    Case("room-nul", "GET", "/room/%00/", PAGE, 404, NUL_PATH),
    # A participant's form: the error beside the field, the values kept, nothing stored.
    Case(
        "form-string-nul",
        "POST",
        "{attitudes}",
        FORM,
        200,
        NUL_FIELD_ERROR,
        data=_attitudes(nickname="Al\x00ice"),
        field="nickname",
    ),
    Case(
        "form-longstring-nul",
        "POST",
        "{attitudes}",
        FORM,
        200,
        NUL_FIELD_ERROR,
        data=_attitudes(comments="a\x00"),
        field="comments",
    ),
    Case(
        "form-only-nul",
        "POST",
        "{attitudes}",
        FORM,
        200,
        NUL_FIELD_ERROR,
        data=_attitudes(comments="\x00"),
        field="comments",
    ),
    Case(
        "form-string-long",
        "POST",
        "{attitudes}",
        FORM,
        200,
        "Field cannot be longer than 10000 characters.",
        data=_attitudes(nickname="a" * 10001),
        field="nickname",
    ),
    Case(
        "form-currency-nul",
        "POST",
        "{attitudes}",
        FORM,
        200,
        "Not a valid decimal value",
        data=_attitudes(savings="4\x000"),
        field="savings",
    ),
    Case(
        "form-choice-nul",
        "POST",
        "{attitudes}",
        FORM,
        200,
        "Not a valid choice",
        data=_attitudes(satisfaction="4\x00"),
        field="satisfaction",
    ),
    Case(
        "form-boolean-nul",
        "POST",
        "{attitudes}",
        FORM,
        200,
        "Not a valid choice",
        data=_attitudes(likes_experiments="\x00"),
        field="likes_experiments",
    ),
    # Status URLs, polled by wait pages and room pages.
    Case("status-code-nul", "GET", "/p/%00/trust/WaitForTrustor/2/status", JSON, 404, NUL_PATH),
    Case("status-wait-nul", "GET", "{wait_page}/status?wait=%00", JSON, 400, field="wait"),
    Case("status-code-long", "GET", f"/p/{LONG}/trust/WaitForTrustor/2/status", JSON, 404),
    Case(
        "room-status-label-nul",
        "GET",
        "/room/qualtrics_study/status?participant_label=a%00",
        JSON,
        400,
        field="participant_label",
    ),
    # Chat, called by grove-chat.js.
    Case("chat-code-nul", "GET", "/p/%00/chat?token={token}", JSON, 404, NUL_PATH),
    Case("chat-token-nul", "GET", "/p/{chat}/chat?token=%00", JSON, 400, field="token"),
    Case("chat-code-long", "GET", f"/p/{LONG}/chat?token={{token}}", JSON, 400, "token"),
    Case(
        "chat-body-nul",
        "POST",
        "/p/{chat}/chat",
        JSON,
        400,
        "cannot contain a NUL character",
        json={"token": "{token}", "body": "hi\x00"},
        field="body",
    ),
    Case(
        "chat-body-surrogate",
        "POST",
        "/p/{chat}/chat",
        JSON,
        400,
        "unpaired surrogate",
        content=_surrogate_json(token="{token}", body="hi SURROGATE"),
        field="body",
    ),
    Case(
        "chat-token-in-body-nul",
        "POST",
        "/p/{chat}/chat",
        JSON,
        400,
        json={"token": "\x00", "body": "hi"},
        field="token",
    ),
    Case(
        "chat-body-long",
        "POST",
        "/p/{chat}/chat",
        JSON,
        400,
        "at most 1000",
        json={"token": "{token}", "body": "a" * 1001},
        field="body",
    ),
    Case(
        "chat-post-code-nul",
        "POST",
        "/p/%00/chat",
        JSON,
        404,
        NUL_PATH,
        json={"token": "{token}", "body": "hi"},
    ),
    # The REST API.
    Case("api-session-nul", "GET", "/api/sessions/%00", JSON, 404, NUL_PATH),
    Case("api-session-long", "GET", f"/api/sessions/{LONG}", JSON, 404),
    Case("api-session-query-nul", "GET", "/api/sessions/{session}?x=%00", JSON, 400, field="x"),
    Case("api-get-session-nul", "POST", "/api/get_session/%00", JSON, 404, NUL_PATH),
    Case("api-get-session-long", "POST", f"/api/get_session/{LONG}", JSON, 404),
    Case(
        "api-create-config-nul",
        "POST",
        "/api/sessions/",
        JSON,
        400,
        json={"session_config_name": "survey\x00", "num_participants": 1},
        field="session_config_name",
    ),
    Case(
        "api-create-room-nul",
        "POST",
        "/api/sessions/",
        JSON,
        400,
        json={"session_config_name": "survey", "num_participants": 1, "room_name": "my\x00"},
        field="room_name",
    ),
    Case(
        "api-create-modified-nul",
        "POST",
        "/api/sessions/",
        JSON,
        400,
        json={
            "session_config_name": "survey",
            "num_participants": 1,
            "modified_session_config_fields": {"doc": "a\x00"},
        },
        field="modified_session_config_fields.doc",
    ),
    Case(
        "api-create-form-nul",
        "POST",
        "/api/sessions/",
        JSON,
        400,
        data={"session_config_name": "survey\x00", "num_participants": "1"},
        field="session_config_name",
    ),
    Case(
        "api-participant-vars-code-nul",
        "POST",
        "/api/participant_vars/%00",
        JSON,
        404,
        NUL_PATH,
        json={"vars": {"a": 1}},
    ),
    Case(
        "api-participant-vars-code-long",
        "POST",
        f"/api/participant_vars/{LONG}",
        JSON,
        404,
        json={"vars": {"a": 1}},
    ),
    Case(
        "api-participant-vars-value-nul",
        "POST",
        "/api/participant_vars/{participant}",
        JSON,
        400,
        json={"vars": {"a": "b\x00"}},
        field="vars.a",
    ),
    Case(
        "api-participant-vars-key-nul",
        "POST",
        "/api/participant_vars/{participant}",
        JSON,
        400,
        json={"vars": {"a\x00": 1}},
        field="vars",
    ),
    Case(
        "api-participant-vars-surrogate",
        "POST",
        "/api/participant_vars/{participant}",
        JSON,
        400,
        "unpaired surrogate",
        content='{"vars": {"a": "\\ud800"}}',
        field="vars.a",
    ),
    Case(
        "api-participant-vars-label-nul",
        "POST",
        "/api/participant_vars/",
        JSON,
        400,
        json={"room_name": "qualtrics_study", "participant_label": "a\x00", "vars": {"a": 1}},
        field="participant_label",
    ),
    Case(
        "api-session-vars-code-nul",
        "POST",
        "/api/session_vars/%00",
        JSON,
        404,
        NUL_PATH,
        json={"vars": {"a": 1}},
    ),
    Case(
        "api-session-vars-value-nul",
        "POST",
        "/api/session_vars/{session}",
        JSON,
        400,
        json={"vars": {"a": ["ok", "b\x00"]}},
        field="vars.a[1]",
    ),
    Case(
        "api-session-vars-room-nul",
        "POST",
        "/api/session_vars",
        JSON,
        400,
        json={"room_name": "my_room\x00", "vars": {"a": 1}},
        field="room_name",
    ),
    Case("api-randomize-code-nul", "POST", "/api/sessions/%00/randomize", JSON, 404, NUL_PATH),
    Case(
        "api-randomize-participant-nul",
        "POST",
        "/api/sessions/{trial}/randomize",
        JSON,
        400,
        json={"participant_code": "\x00"},
        field="participant_code",
    ),
    Case(
        "api-randomize-label-long",
        "POST",
        "/api/sessions/{trial}/randomize",
        JSON,
        404,
        json={"participant_label": LONG},
    ),
    # The reference urn API keeps its own body shape.
    Case("urn-config-nul", "GET", "/study_config?study=%00", REFERENCE, 400),
    Case(
        "urn-randomize-study-nul",
        "POST",
        "/study_participants",
        REFERENCE,
        400,
        json={"study": "{trial}\x00", "id": "p1", "age_group": "18-40", "sex": "Male"},
    ),
    Case(
        "urn-randomize-id-nul",
        "POST",
        "/study_participants",
        REFERENCE,
        400,
        json={"study": "{trial}", "id": "p\x00", "age_group": "18-40", "sex": "Male"},
    ),
    Case(
        "urn-randomize-level-nul",
        "POST",
        "/study_participants",
        REFERENCE,
        400,
        json={"study": "{trial}", "id": "p1", "age_group": "18-40\x00", "sex": "Male"},
    ),
    Case("urn-study-long", "GET", f"/study_participants?study={LONG}", REFERENCE, 404, "no study"),
]


def check_answer(case: Case, response: Any) -> None:
    """The status, the shape of the case's route family, and the message where one is given."""
    assert response.status_code < 500, (case.id, response.text[:300])
    assert response.status_code == case.status, (case.id, response.text[:300])
    content_type = response.headers["content-type"]
    if case.shape in (PAGE, FORM):
        assert content_type.startswith("text/html"), (case.id, content_type)
        assert "<!DOCTYPE html>" in response.text
    else:
        assert content_type.startswith("application/json"), (case.id, content_type)
    if case.shape == JSON:
        body = response.json()
        assert body["ok"] is False
        assert body["status"] == case.status
        assert isinstance(body["error"], str)
        assert body["error"]
        assert isinstance(body["errors"], list)
        if case.field is not None:
            assert {"field": case.field, "message": body["error"]} in body["errors"], body
        assert case.message in body["error"], body
    elif case.shape == REFERENCE:
        body = response.json()
        assert body == {"message": body["message"], "results": [], "status": case.status}
        assert case.message in body["message"]
    elif case.shape == FORM:
        assert case.field is not None
        assert field_error(response.text, case.field) == case.message
    else:
        assert case.message in response.text


def field_error(html: str, name: str) -> str | None:
    """The error shown beside one field of a rendered form, or None."""
    for block in html.split('<div class="mb-3 grove-field')[1:]:
        if f'for="id_{name}"' in block or f'id="id_{name}' in block:
            found = re.search(r'class="invalid-feedback[^"]*"[^>]*>(.*?)</div>', block)
            return found.group(1) if found else None
    raise AssertionError(f"no field {name} on the page")


def snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table: a refused request must leave this unchanged."""
    metadata = _REFLECTED.get(engine)
    if metadata is None:
        metadata = _REFLECTED[engine] = sa.MetaData()
        metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(
                tuple(repr(v) for v in row) for row in connection.execute(sa.select(table))
            )
            for name, table in sorted(metadata.tables.items())
        }


# The tables of each database, read once: every table exists from the server's start.
_REFLECTED: dict[sa.Engine, sa.MetaData] = {}
