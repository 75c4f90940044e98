"""The OpenAPI document describes every API route and its parameters, and is valid OpenAPI.

The routes are read from the running application (``app.routes``), the document from
``/api/openapi.json``: what a client downloads, compared with what the server answers.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import TypeAdapter
from starlette.routing import Mount, Route

from server.rest.models import Error, ExportJSON
from server.rest.routes import ENDPOINTS
from server.rest.spec import EXPORT

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def api_routes(app: Any) -> set[tuple[str, str]]:
    """(METHOD, path template without trailing slash) of every route under /api/."""
    found = set()
    for mount in app.routes:
        if isinstance(mount, Mount) and mount.path == "/api":
            for route in mount.routes:
                assert isinstance(route, Route)
                path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", "/api" + route.path).rstrip("/")
                found |= {(method, path) for method in (route.methods or ()) if method != "HEAD"}
    return found


def spec_operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path.rstrip("/")): operation
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in HTTP_METHODS
    }


@pytest.fixture
def spec(client) -> dict[str, Any]:
    return client.get("/api/openapi.json").json()


def test_every_api_route_is_in_the_spec_and_every_spec_path_is_a_route(client, spec):
    routes = api_routes(client.app)
    documented = {key for key in spec_operations(spec) if key[1].startswith("/api/")}
    assert len(routes) >= 15
    assert routes - documented == set(), "routes the document does not describe"
    assert documented - routes == set(), "documented operations no route serves"


def test_every_path_parameter_of_a_route_is_declared(spec):
    for (method, path), operation in spec_operations(spec).items():
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), (method, path)


def test_each_endpoints_parameters_are_its_models_fields(spec):
    """Query parameters (or body properties) are exactly what the endpoint's model accepts."""
    operations = spec_operations(spec)
    schemas = spec["components"]["schemas"]
    for endpoint in ENDPOINTS:
        operation = operations[(endpoint.method, endpoint.path.rstrip("/"))]
        if endpoint.placement == "query":
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            required = {p["name"] for p in operation.get("parameters", []) if p.get("required")}
            required -= set(re.findall(r"\{(\w+)\}", endpoint.path))
        else:
            for media in ("application/json", "application/x-www-form-urlencoded"):
                body = operation["requestBody"]["content"][media]["schema"]
                assert body == {"$ref": f"#/components/schemas/{endpoint.params.__name__}"}
            schema = schemas[endpoint.params.__name__]
            names, required = set(schema["properties"]), set(schema.get("required", []))
            assert schema["additionalProperties"] is False
        fields = endpoint.params.model_fields
        assert names == set(fields), endpoint.path
        assert required == {n for n, f in fields.items() if f.is_required()}, endpoint.path


def test_export_query_parameters_and_answers(spec):
    operation = spec["paths"]["/api/export/{table}"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"table", "format", "since", "session"}
    assert parameters["format"]["schema"]["enum"] == ["csv", "csv_bom", "json"]
    assert parameters["format"]["schema"]["default"] == "csv"
    ok = operation["responses"]["200"]
    assert set(ok["content"]) == {"text/csv", "application/json"}
    assert "Grove-Next-Since" in ok["headers"]
    data = spec["paths"]["/api/sessions/{code}/data"]["get"]
    assert {p["name"] for p in data["parameters"]} == {"code", "format", "since"}


def test_the_spec_is_valid_openapi(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "fields"),
    [
        (
            "post",
            "/api/sessions/",
            {"json": {"num_participants": "x", "label": 7, "colour": "red"}},
            ["session_config_name", "num_participants", "label", "colour"],
        ),
        ("post", "/api/session_vars/", {"data": {"room_name": "my_room"}}, ["vars"]),
        ("get", "/api/rooms", {"params": {"colour": "red"}}, ["colour"]),
        (
            "get",
            "/api/export/chat",
            {"params": {"format": "xlsx", "since": ""}},
            ["format", "since"],
        ),
    ],
)
def test_a_validation_error_names_every_bad_field(client, method, path, kwargs, fields):
    response = client.request(method, path, **kwargs)
    assert response.status_code == 400, response.text
    body = response.json()
    assert [e["field"] for e in body["errors"]] == fields
    for error in body["errors"]:
        assert error["field"] in error["message"]
        assert error["message"] in body["error"]


def test_every_json_answer_is_what_its_model_declares(client):
    """The answers the server sends validate against the models the document shows."""
    created = client.post(
        "/api/sessions/",
        json={"session_config_name": "survey", "num_participants": 2, "room_name": "my_room"},
    )
    code = created.json()["code"]
    detail = client.get(f"/api/sessions/{code}", params={"participant_vars": "a"}).json()
    participant = detail["participants"][0]["code"]
    calls = {
        ("POST", "/api/sessions/"): created,
        ("GET", "/api/sessions/"): client.get("/api/sessions/"),
        ("GET", "/api/sessions/{code}"): client.get(f"/api/sessions/{code}"),
        ("POST", "/api/get_session/{code}"): client.post(f"/api/get_session/{code}", json={}),
        ("POST", "/api/participant_vars/"): client.post(
            "/api/participant_vars/",
            json={"room_name": "qualtrics_study", "participant_label": "q", "vars": {"a": 1}},
        ),
        ("POST", "/api/participant_vars/{code}"): client.post(
            f"/api/participant_vars/{participant}", json={"vars": {"a": 1}}
        ),
        ("POST", "/api/session_vars/"): client.post(
            "/api/session_vars/", json={"room_name": "my_room", "vars": {"b": 2}}
        ),
        ("POST", "/api/session_vars/{code}"): client.post(
            f"/api/session_vars/{code}", json={"vars": {"b": 2}}
        ),
        ("GET", "/api/otree_version"): client.get("/api/otree_version"),
        ("GET", "/api/session_configs"): client.get("/api/session_configs"),
        ("GET", "/api/rooms"): client.get("/api/rooms"),
        ("GET", "/api/sessions/{code}/data"): client.get(f"/api/sessions/{code}/data"),
        ("GET", "/api/export/{table}"): client.get("/api/export/all_apps_wide?format=json"),
    }
    for endpoint in ENDPOINTS:
        response = calls.get((endpoint.method, endpoint.path))
        if response is None:
            continue
        assert response.status_code == 200, (endpoint.path, response.text)
        model = ExportJSON if endpoint.answer == EXPORT else endpoint.answer
        TypeAdapter(model).validate_python(response.json())
    assert len(calls) == 13
    refused = client.post(f"/api/sessions/{code}/randomize", json={})
    Error.model_validate(refused.json())
