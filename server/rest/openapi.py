"""The OpenAPI 3 description of the REST API, and a readable page made from it."""

from __future__ import annotations

from typing import Any

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from server import __version__
from server.participant_vars import MAX_LABEL_LENGTH
from server.rest.export_spec import export_paths

ERROR = {"$ref": "#/components/schemas/Error"}
VARS = {"type": "object", "additionalProperties": True, "description": "any JSON values"}


def _json_body(schema: dict[str, Any], form: bool = True) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if form:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"required": True, "content": content}


def _responses(ok: dict[str, Any], *codes: int) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "Success", "content": {"application/json": {"schema": ok}}}
    }
    texts = {
        400: "Invalid input",
        403: "Missing or invalid key",
        404: "Not found",
        413: "Body too large",
        415: "Unsupported Content-Type",
        401: "Missing or invalid key",
    }
    for code in codes:
        responses[str(code)] = {
            "description": texts[code],
            "content": {"application/json": {"schema": ERROR}},
        }
    return responses


CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
WRITE = (400, 403, 404, 413, 415)
READ = (400, 403, 413, 415)
GET_BODY = (
    " Parameters may be sent in the query string or, as oTree's call_api does even on GET, "
    "as a JSON body; an unknown parameter is a 400."
)
LABEL_RULE = (
    "Surrounding whitespace (spaces, tabs, line breaks) is not part of a label: "
    "'alice ' and 'alice' are one label, here and in the room."
)


def build_spec() -> dict[str, Any]:
    """The whole OpenAPI document."""
    session_summary = {"$ref": "#/components/schemas/SessionSummary"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Grove REST API",
            "version": __version__,
            "description": "oTree's REST API, plus per-user keys and urn randomization.",
        },
        "servers": [{"url": "/"}],
        "security": [{"RestKey": []}, {"Bearer": []}, {"ApiKeyQuery": []}],
        "paths": {
            "/api/sessions/": {
                "get": {
                    "summary": "List sessions, newest last",
                    "description": "Takes no parameters." + GET_BODY,
                    "operationId": "listSessions",
                    "responses": _responses({"type": "array", "items": session_summary}, *READ),
                },
                "post": {
                    "summary": "Create a session",
                    "operationId": "createSession",
                    "requestBody": _json_body(
                        {"$ref": "#/components/schemas/CreateSession"}, form=False
                    ),
                    "responses": _responses({"$ref": "#/components/schemas/Created"}, *WRITE),
                },
            },
            "/api/sessions/{code}": {
                "get": {
                    "summary": "A session with its participants",
                    "description": (
                        "Each filter is a comma-separated list in the query string, or a list of "
                        "strings in a JSON body. Each requested var that is set is also a key of "
                        "the participant (session vars: of the session), as in oTree."
                        + GET_BODY
                        + " "
                        + LABEL_RULE
                    ),
                    "operationId": "getSession",
                    "parameters": [
                        CODE,
                        {
                            "name": "participant_labels",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "comma-separated labels to include",
                        },
                        {
                            "name": "participant_vars",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "comma-separated participant vars to include",
                        },
                        {
                            "name": "session_vars",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "comma-separated session vars to include",
                        },
                    ],
                    "responses": _responses({"type": "object"}, *READ, 404),
                },
            },
            "/api/get_session/{code}": {
                "post": {
                    "summary": "oTree's spelling of getSession",
                    "operationId": "postGetSession",
                    "parameters": [CODE],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "participant_labels": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                        },
                                        "participant_vars": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                        },
                                        "session_vars": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": _responses({"type": "object"}, *WRITE),
                },
            },
            "/api/sessions/{code}/randomize": {
                "post": {
                    "summary": "Randomize a participant of the session with its urn",
                    "operationId": "randomizeInSession",
                    "parameters": [CODE],
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "participant_code": {"type": "string"},
                                "participant_label": {"type": "string"},
                                "levels": {"type": "object"},
                            },
                        }
                    ),
                    "responses": _responses({"type": "object"}, *WRITE),
                },
            },
            "/api/participant_vars/": {
                "post": {
                    "summary": "Set participant vars by room and label",
                    "operationId": "participantVarsByLabel",
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["room_name", "participant_label", "vars"],
                            "properties": {
                                "room_name": {"type": "string"},
                                "participant_label": {
                                    "type": "string",
                                    "minLength": 1,
                                    "maxLength": MAX_LABEL_LENGTH,
                                    "description": LABEL_RULE,
                                },
                                "vars": VARS,
                            },
                        }
                    ),
                    "responses": _responses({"type": "object"}, *WRITE),
                },
            },
            "/api/participant_vars/{code}": {
                "post": {
                    "summary": "Set participant vars by participant code",
                    "operationId": "participantVarsByCode",
                    "parameters": [CODE],
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["vars"],
                            "properties": {"vars": VARS},
                        }
                    ),
                    "responses": _responses({"type": "object"}, *WRITE),
                },
            },
            "/api/session_vars/": {
                "post": {
                    "summary": "Set session vars of a room's session",
                    "operationId": "sessionVarsByRoom",
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["room_name", "vars"],
                            "properties": {"room_name": {"type": "string"}, "vars": VARS},
                        }
                    ),
                    "responses": _responses({"type": "object"}, *WRITE),
                },
            },
            "/api/session_vars/{code}": {
                "post": {
                    "summary": "Set session vars by session code",
                    "operationId": "sessionVarsByCode",
                    "parameters": [CODE],
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["vars"],
                            "properties": {"vars": VARS},
                        }
                    ),
                    "responses": _responses({"type": "object"}, *WRITE),
                },
            },
            "/api/otree_version": {
                "get": {
                    "summary": "The oTree version whose API Grove follows, and Grove's version",
                    "description": "Takes no parameters." + GET_BODY,
                    "operationId": "version",
                    "responses": _responses({"$ref": "#/components/schemas/Version"}, *READ),
                }
            },
            "/api/session_configs": {
                "get": {
                    "summary": "Every session config, merged with SESSION_CONFIG_DEFAULTS",
                    "description": "Takes no parameters." + GET_BODY,
                    "operationId": "sessionConfigs",
                    "responses": _responses(
                        {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/SessionConfig"},
                        },
                        *READ,
                    ),
                }
            },
            "/api/rooms": {
                "get": {
                    "summary": "Every room, with the code of its current session (or null)",
                    "description": "Takes no parameters." + GET_BODY,
                    "operationId": "rooms",
                    "responses": _responses(
                        {"type": "array", "items": {"$ref": "#/components/schemas/Room"}}, *READ
                    ),
                }
            },
            **export_paths(),
            "/study_config": {
                "get": {
                    "summary": "Urn API: a study's configuration (seed hidden)",
                    "operationId": "studyConfig",
                    "parameters": [
                        {
                            "name": "study",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": _responses(
                        {"$ref": "#/components/schemas/UrnAnswer"}, 400, 401, 404
                    ),
                }
            },
            "/study_participants": {
                "get": {
                    "summary": "Urn API: the study's assignments",
                    "operationId": "studyParticipants",
                    "parameters": [
                        {
                            "name": "study",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": _responses(
                        {"$ref": "#/components/schemas/UrnAnswer"}, 400, 401, 404
                    ),
                },
                "post": {
                    "summary": "Urn API: randomize one participant (id, one parameter per factor)",
                    "operationId": "randomizeParticipant",
                    "parameters": [
                        {
                            "name": "study",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "id",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": _responses(
                        {"$ref": "#/components/schemas/UrnAnswer"}, 400, 401, 404
                    ),
                },
            },
        },
        "components": {
            "securitySchemes": {
                "RestKey": {"type": "apiKey", "in": "header", "name": "otree-rest-key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
                "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["ok", "status", "error"],
                    "properties": {
                        "ok": {"type": "boolean"},
                        "status": {"type": "integer"},
                        "error": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Version": {
                    "type": "object",
                    "required": ["version"],
                    "properties": {
                        "version": {"type": "string", "example": "6.0.15"},
                        "grove_version": {"type": "string"},
                    },
                },
                "SessionConfig": {
                    "type": "object",
                    "required": ["name", "display_name", "app_sequence", "num_demo_participants"],
                    "additionalProperties": True,
                    "properties": {
                        "name": {"type": "string"},
                        "display_name": {"type": "string"},
                        "app_sequence": {"type": "array", "items": {"type": "string"}},
                        "num_demo_participants": {"type": "integer"},
                        "doc": {"type": "string"},
                        "real_world_currency_per_point": {"type": "number"},
                        "participation_fee": {"type": "number"},
                    },
                },
                "Room": {
                    "type": "object",
                    "required": ["name", "session_code", "url"],
                    "properties": {
                        "name": {"type": "string"},
                        "session_code": {"type": "string", "nullable": True},
                        "url": {"type": "string"},
                        "display_name": {"type": "string"},
                        "has_participant_labels": {"type": "boolean"},
                    },
                },
                "UrnAnswer": {
                    "type": "object",
                    "properties": {
                        "message": {"type": "string"},
                        "results": {},
                        "status": {"type": "integer"},
                    },
                },
                "CreateSession": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["session_config_name", "num_participants"],
                    "properties": {
                        "session_config_name": {"type": "string"},
                        "num_participants": {"type": "integer", "minimum": 1, "nullable": True},
                        "label": {"type": "string"},
                        "room_name": {"type": "string"},
                        "modified_session_config_fields": {"type": "object"},
                    },
                },
                "Created": {
                    "type": "object",
                    "required": ["code", "session_wide_url", "admin_url"],
                    "properties": {
                        "code": {"type": "string"},
                        "session_wide_url": {"type": "string"},
                        "admin_url": {"type": "string"},
                        "room_url": {"type": "string"},
                    },
                },
                "SessionSummary": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "config_name": {"type": "string"},
                        "num_participants": {"type": "integer"},
                        "label": {"type": "string", "nullable": True},
                        "created_at": {"type": "string"},
                        "session_wide_url": {"type": "string"},
                        "admin_url": {"type": "string"},
                        "room_name": {"type": "string", "nullable": True},
                    },
                },
            },
        },
    }


async def openapi_json(request: Request) -> JSONResponse:
    """GET /api/openapi.json."""
    return JSONResponse(build_spec())


async def docs_page(request: Request) -> HTMLResponse:
    """GET /api/docs: every endpoint, its parameters and answers, readable without scripts."""
    spec = build_spec()
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grove REST API</title>",
        "<link rel='stylesheet' href='/grove_static/grove.css'></head><body>",
        "<main class='grove-admin'><h1>Grove REST API</h1>",
        "<p>Send your key as the <code>otree-rest-key</code> header, as "
        "<code>Authorization: Bearer KEY</code>, or as <code>?api_key=KEY</code>. "
        "Machine-readable: <a href='/api/openapi.json'>/api/openapi.json</a>.</p>",
    ]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            parts.append(f"<h2><code>{method.upper()} {escape(path)}</code></h2>")
            parts.append(f"<p>{escape(operation.get('summary', ''))}</p>")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                schema = body["schema"]
                if "$ref" in schema:
                    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
                required = schema.get("required", [])
                fields = ", ".join(
                    f"<code>{escape(name)}</code>{'*' if name in required else ''}"
                    for name in schema.get("properties", {})
                )
                parts.append(f"<p>Body fields (* required): {fields}</p>")
            codes = ", ".join(operation.get("responses", {}))
            parts.append(f"<p>Answers: {escape(codes)}</p>")
    parts.append("</main></body></html>")
    return HTMLResponse("".join(parts))
