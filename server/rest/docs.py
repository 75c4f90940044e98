"""A readable page of the OpenAPI document: every operation, its parameters and answers."""

from __future__ import annotations

from typing import Any

from markupsafe import escape
from starlette.responses import HTMLResponse


def _fields(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[list[str], set[str]]:
    names, required = [], set()
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            names.append(parameter["name"])
            if parameter.get("required"):
                required.add(parameter["name"])
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        schema = body["schema"]
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        names += list(schema.get("properties", {}))
        required |= set(schema.get("required", []))
    return names, required


def docs_page(spec: dict[str, Any]) -> HTMLResponse:
    """The page: readable without scripts."""
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
            if operation.get("description"):
                parts.append(f"<p>{escape(operation['description'])}</p>")
            names, required = _fields(spec, operation)
            if names:
                fields = ", ".join(
                    f"<code>{escape(name)}</code>{'*' if name in required else ''}"
                    for name in names
                )
                parts.append(f"<p>Parameters (* required): {fields}</p>")
            codes = ", ".join(operation.get("responses", {}))
            parts.append(f"<p>Answers: {escape(codes)}</p>")
    parts.append("</main></body></html>")
    return HTMLResponse("".join(parts))
