"""The OpenAPI description of the data export endpoints (server/rest/export_api.py)."""

from __future__ import annotations

from typing import Any

FORMAT = {
    "name": "format",
    "in": "query",
    "schema": {"type": "string", "enum": ["csv", "csv_bom", "json"]},
    "description": "csv (UTF-8), csv_bom (UTF-8 with a byte-order mark, for Excel) or json",
}
SINCE = {
    "name": "since",
    "in": "query",
    "schema": {"type": "string"},
    "description": (
        "Only participants whose data changed since: the next_since of an earlier answer "
        "(exact: a change committed after that pull is never missed; a participant written "
        "during the pull may come again), or, by the server's clock, epoch seconds or an ISO "
        "8601 time. Deleted participants are not reported."
    ),
}
SESSION = {
    "name": "session",
    "in": "query",
    "schema": {"type": "string"},
    "description": "a session code: only that session (else every session)",
}
NEXT_SINCE = {
    "Grove-Next-Since": {
        "description": "the cursor to pass as since in the next pull",
        "schema": {"type": "string"},
    }
}
EXPORT_JSON = {
    "type": "object",
    "required": ["next_since", "columns", "rows"],
    "properties": {
        "next_since": {"type": "string", "description": "the cursor for the next pull"},
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {
            "type": "array",
            "items": {"type": "object", "additionalProperties": True},
            "description": "one object per row, keyed by column",
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _export(summary: str, operation_id: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": "The export, streamed (CSV or JSON by format)",
                    "headers": NEXT_SINCE,
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/json": {"schema": EXPORT_JSON},
                    },
                },
                "400": _error("A bad format, since or unknown parameter"),
                "403": _error("Missing or invalid key"),
                "404": _error("No such session, app or export"),
            },
        }
    }


def export_paths() -> dict[str, Any]:
    """The export paths of the OpenAPI document."""
    code = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
    table = {
        "name": "table",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "all_apps_wide, page_times, chat, urn_assignments, or an app's name",
    }
    function = {
        "name": "function",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "the name of a custom_export* function of the app",
    }
    return {
        "/api/sessions/{code}/data": _export(
            "A session's data, wide (one row per participant; JSON unless format says csv)",
            "sessionData",
            [code, FORMAT, SINCE],
        ),
        "/api/export/{table}": _export(
            "Export all apps wide, one app's table, page times, chat or the urn assignment log "
            "(oTree's columns), of every session or one",
            "exportTable",
            [table, FORMAT, SINCE, SESSION],
        ),
        "/api/export/{table}/{function}": _export(
            "An app's custom_export(players) rows (its first row is the header)",
            "exportCustom",
            [table, function, FORMAT, SINCE, SESSION],
        ),
    }
