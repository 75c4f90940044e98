"""The OpenAPI document lists the refusals the server gives: every operation wrapped by the
common endpoint answers 400 for an unknown parameter, 413 for a body too large and 415 for a
body of another type, whatever its method (so do DELETE room/{roomname}/ and
POST room/{roomname}/disassociate/, which listed none of them); creating a session in a room
with a taken sname is a 409, which the document did not list."""

from __future__ import annotations

import re

import pytest

from server.rest.routes import spec
from tests import admin_api_helpers
from tests.admin_api_helpers import ADMIN, V1

api_app = admin_api_helpers.api_app
api = admin_api_helpers.api


def _operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in spec()["paths"].items()
        for method, operation in operations.items()
        if path.startswith(V1)
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{\w+\}", "nope", path)


@pytest.mark.parametrize(("method", "path"), _operations())
def test_each_refusal_of_the_common_endpoint_is_documented(api, method, path):
    documented = spec()["paths"][path][method.lower()]["responses"]
    url = _concrete(path)
    typed = api.request(method, url, content="x", headers={**ADMIN, "Content-Type": "text/plain"})
    assert typed.status_code == 415, typed.text
    unknown = api.request(method, url, params={"no_such_parameter": "1"}, headers=ADMIN)
    assert unknown.status_code == 400, unknown.text
    assert {"400", "413", "415"} <= set(documented), (method, path)


def test_a_room_sessions_taken_sname_is_a_documented_409(api):
    made = api.post(f"{V1}/sessions/", json={"config": "survey", "sname": "taken"}, headers=ADMIN)
    assert made.status_code == 200, made.text
    again = api.post(
        f"{V1}/room/econ101/session/", json={"config": "survey", "sname": "taken"}, headers=ADMIN
    )
    assert again.status_code == 409, again.text
    documented = spec()["paths"][f"{V1}/room/{{roomname}}/session/"]["post"]["responses"]
    assert "409" in documented
