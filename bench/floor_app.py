"""The floor: a bare Starlette app with a JSON endpoint, served by uvicorn with Grove's own
server settings. Nothing can answer an HTTP request on this stack faster, so it bounds every
ratio from above.

Run: ``uvicorn bench.floor_app:app``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def echo(request: Request) -> JSONResponse:
    """GET: a constant JSON document; POST: parse the JSON body and answer with its keys."""
    if request.method == "POST":
        payload = await request.json()
        return JSONResponse({"ok": True, "keys": sorted(payload)})
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/", echo, methods=["GET", "POST"])])
