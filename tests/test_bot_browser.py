"""The bots' browser (``server.bots.browser``): requests to the app in process, answered as a
browser gets them. A redirect is the runner's to follow (it checks each URL it lands on), a
cookie the app sets is sent back with the next requests, and a form is posted as a browser
encodes it."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from server.bots.browser import Browser


def _start(_request: Request) -> Response:
    response = RedirectResponse("/echo", status_code=303)
    response.set_cookie("visitor", "v1", httponly=True, samesite="lax")
    return response


async def _echo(request: Request) -> Response:
    form = await request.form() if request.method == "POST" else {}
    return JSONResponse(
        {
            "cookie": request.cookies.get("visitor"),
            "content_type": request.headers.get("content-type"),
            "form": dict(form),
        }
    )


APP = Starlette(routes=[Route("/start", _start), Route("/echo", _echo, methods=["GET", "POST"])])


def test_the_browser_leaves_redirects_to_the_runner_and_keeps_the_cookies_it_is_given():
    async def visit() -> tuple[Response, dict, dict]:
        browser = Browser(APP)
        first = await browser.get("/start")
        assert first.status_code == 303
        assert first.headers["location"] == "/echo"
        shown = (await browser.get(first.headers["location"])).json()
        posted = (await browser.post("/echo", data={"answer": "5", "note": "a b&c"})).json()
        return first, shown, posted

    _first, shown, posted = asyncio.run(visit())
    assert shown["cookie"] == "v1"
    assert posted == {
        "cookie": "v1",
        "content_type": "application/x-www-form-urlencoded",
        "form": {"answer": "5", "note": "a b&c"},
    }
