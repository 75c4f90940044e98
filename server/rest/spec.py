"""Endpoints declared once, and the OpenAPI 3.1 document made from their declarations.

An ``Endpoint`` names its method, path, parameters (a pydantic model), answer (a model, a list
of one, or an export stream) and error statuses. ``server/rest/routes.py`` builds the route
table from the same list, so every route is in the document and every parameter it validates
is described there, by construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from server import __version__
from server.rest.models import Error, ExportJSON

REF = "#/components/schemas/{model}"
ERROR_TEXTS = {
    400: "Invalid input: each bad parameter named in errors",
    401: "Missing or invalid key",
    403: "Missing or invalid key, or the key's scope does not allow this operation",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Unsupported Content-Type",
    429: "Too many requests with this key: wait Retry-After seconds",
}
PATH_HELP = {
    "code": "a session code (participant_vars: a participant code)",
    "table": "all_apps_wide, page_times, chat, urn_assignments, or an app's name",
    "function": "the name of a custom_export* function of the app",
    "sname": "a session code",
    "cname": "a session config name",
    "roomname": "a room name",
}
GET_BODY = (
    " Parameters may be sent in the query string or, as oTree's call_api does even on GET, "
    "as a JSON body; an unknown parameter is a 400."
)
FORM = "application/x-www-form-urlencoded"
EXPORT = "export"  # the answer of a streamed export: CSV or JSON by ?format=
HTML = "html"  # a page for people


@dataclass(frozen=True)
class Endpoint:
    """One operation of the API: what the route table and the OpenAPI document are made of.

    ``handler(request, grove, caller, params)`` gets ``params`` as a ``params`` instance
    (``server/rest/endpoint.py``); ``answer`` is a model, ``list[Model]`` or ``EXPORT``.
    ``parameters_in`` says where the document puts the parameters (the server reads both).
    ``scope`` is the least key scope that may call it (``server/rest/auth.py``'s SCOPES):
    ``read`` for what only reads, ``write`` for vars and creating sessions, ``admin`` for
    the rest; left empty, a GET needs ``read`` and any other method ``admin``.
    """

    method: Literal["GET", "POST", "PATCH", "PUT", "DELETE"]
    path: str
    operation_id: str
    summary: str
    handler: Callable[..., Any]
    params: type[BaseModel]
    answer: Any
    errors: tuple[int, ...] = (400, 403, 413, 415)
    description: str = ""
    parameters_in: Literal["query", "body"] | None = None
    error_model: type[BaseModel] = Error
    # A ready Starlette endpoint that reads its own parameters (the reference urn API, the
    # document itself); public: no key needed.
    raw: bool = False
    public: bool = False
    scope: Literal["", "read", "write", "admin"] = ""

    @property
    def required_scope(self) -> Literal["read", "write", "admin"]:
        """The declared scope, or the default of the method (GET: read, others: admin)."""
        if self.scope:
            return self.scope
        return "read" if self.method == "GET" else "admin"

    @property
    def placement(self) -> str:
        """Where the document describes the parameters: the query string or the body."""
        return self.parameters_in or ("query" if self.method == "GET" else "body")


class _Schemas:
    """JSON schemas of models, their definitions gathered under components/schemas."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, annotation: Any, mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        schema = TypeAdapter(annotation).json_schema(ref_template=REF, mode=mode)
        self.components.update(schema.pop("$defs", {}))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self.components[annotation.__name__] = schema
            return {"$ref": REF.format(model=annotation.__name__)}
        return schema


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            **({"description": PATH_HELP[name]} if name in PATH_HELP else {}),
        }
        for name in re.findall(r"\{(\w+)\}", path)
    ]


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The model's fields as query parameters; a list is comma-separated (style form)."""
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        field_schema = {k: v for k, v in field_schema.items() if k not in ("title",)}
        description = field_schema.pop("description", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": field_schema,
        }
        if description:
            parameter["description"] = description
        if "array" in _types(field_schema):
            parameter.update(style="form", explode=False)
        parameters.append(parameter)
    return parameters


def _types(schema: dict[str, Any]) -> set[str]:
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set()
    for option in schema.get("anyOf", []):
        found |= _types(option)
    return found


def _error_statuses(endpoint: Endpoint) -> list[int]:
    """The declared errors, and those ``server/rest/endpoint.py``'s ``serve`` gives any
    endpoint it wraps whatever its method: 400 (an unknown or bad parameter, in the query
    string or the body), 413 (a body too large) and 415 (a body of another type)."""
    statuses = set(endpoint.errors)
    if not endpoint.raw:
        statuses |= {400, 413, 415}
    return sorted(statuses)


def _operation(endpoint: Endpoint, schemas: _Schemas) -> dict[str, Any]:
    description = endpoint.description
    if endpoint.placement == "query" and endpoint.error_model is Error:
        description = (description or (endpoint.params.__doc__ or "").strip()) + GET_BODY
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "description": description.strip(),
        "operationId": endpoint.operation_id,
    }
    parameters = _path_parameters(endpoint.path)
    if endpoint.placement == "query":
        parameters += query_parameters(endpoint.params)
    else:
        body = schemas.of(endpoint.params, "validation")
        operation["requestBody"] = {
            "required": bool(endpoint.params.model_json_schema().get("required")),
            "content": {"application/json": {"schema": body}, FORM: {"schema": body}},
        }
    if parameters:
        operation["parameters"] = parameters
    if endpoint.public:
        operation["security"] = []
    else:
        operation["x-required-scope"] = endpoint.required_scope
    error = {"application/json": {"schema": schemas.of(endpoint.error_model, "serialization")}}
    responses: dict[str, Any] = {}
    if endpoint.answer == EXPORT:
        responses["200"] = {
            "description": "The export, streamed (CSV or JSON by format)",
            "headers": {
                "Grove-Next-Since": {
                    "description": "the cursor to pass as since in the next pull",
                    "schema": {"type": "string"},
                }
            },
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": schemas.of(ExportJSON, "serialization")},
            },
        }
    elif endpoint.answer == HTML:
        responses["200"] = {
            "description": "A page",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    else:
        answer = schemas.of(endpoint.answer, "serialization")
        responses["200"] = {
            "description": "Success",
            "content": {"application/json": {"schema": answer}},
        }
    for status in _error_statuses(endpoint):
        responses[str(status)] = {"description": ERROR_TEXTS[status], "content": error}
    if not endpoint.public:
        # Every keyed operation counts against the key's rate limit (server/rate_limit.py).
        responses["429"] = {
            "description": ERROR_TEXTS[429],
            "headers": {
                "Retry-After": {
                    "description": "seconds until the next minute's count starts",
                    "schema": {"type": "integer"},
                }
            },
            "content": error,
        }
    operation["responses"] = responses
    return operation


def build_spec(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    """The OpenAPI document of ``endpoints`` (paths as ``/api/sessions/{code}``)."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Grove REST API",
            "version": __version__,
            "description": "oTree's REST API, plus per-user keys, data export and urn "
            "randomization; the admin API (/admin/api/v1/) with scoped keys. Each operation's "
            "x-required-scope is the least key scope (read < write < admin) it needs.",
        },
        "servers": [{"url": "/"}],
        "security": [{"RestKey": []}, {"Bearer": []}, {"ApiKeyQuery": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "RestKey": {"type": "apiKey", "in": "header", "name": "otree-rest-key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
                "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
            },
            "schemas": dict(sorted(schemas.components.items())),
        },
    }
