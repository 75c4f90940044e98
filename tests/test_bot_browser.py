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


def _scoped(_request: Request) -> Response:
    response = Response("set")
    response.set_cookie("room", "r1", path="/room/lab")
    response.set_cookie("site", "s1")
    return response


def _forget(_request: Request) -> Response:
    response = Response("gone")
    response.delete_cookie("site")
    return response


async def _cookies(request: Request) -> Response:
    return JSONResponse(dict(request.cookies))


SCOPED = Starlette(
    routes=[
        Route("/set", _scoped),
        Route("/forget", _forget),
        Route("/room/lab/cookies", _cookies),
        Route("/room/labx/cookies", _cookies),
        Route("/cookies", _cookies),
    ]
)


def test_the_browser_sends_a_cookie_within_its_path_only_and_drops_one_the_app_deletes():
    # A browser's rules (RFC 6265 5.1.4, 5.3): Path limits where a cookie goes (/room/lab is
    # not a prefix of /room/labx in its sense); a cookie set to expire is deleted.
    async def visit() -> list[dict]:
        browser = Browser(SCOPED)
        await browser.get("/set")
        seen = [
            (await browser.get(path)).json()
            for path in ("/room/lab/cookies", "/room/labx/cookies", "/cookies")
        ]
        await browser.get("/forget")
        seen.append((await browser.get("/room/lab/cookies")).json())
        return seen

    in_room, next_door, elsewhere, after_delete = asyncio.run(visit())
    assert in_room == {"room": "r1", "site": "s1"}
    assert next_door == {"site": "s1"}
    assert elsewhere == {"site": "s1"}
    assert after_delete == {"room": "r1"}


def _kinds(_request: Request) -> Response:
    response = Response("set")
    response.set_cookie("plain", "p1")
    response.set_cookie("https_only", "h1", secure=True)
    response.set_cookie("short", "s1", max_age=1)
    return response


SECURE = Starlette(routes=[Route("/kinds", _kinds), Route("/cookies", _cookies)])


def test_the_browser_keeps_secure_cookies_off_http_and_drops_expired_ones(monkeypatch):
    # RFC 6265 5.4: a Secure cookie goes over https only (the bots' origin is http); a cookie
    # whose Max-Age has passed is not sent any more.
    import time

    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])

    async def visit() -> list[dict]:
        browser = Browser(SECURE)
        await browser.get("/kinds")
        seen = [(await browser.get("/cookies")).json()]
        now[0] += 2
        seen.append((await browser.get("/cookies")).json())
        return seen

    fresh, later = asyncio.run(visit())
    assert fresh == {"plain": "p1", "short": "s1"}
    assert later == {"plain": "p1"}


def test_the_browser_follows_an_absolute_url_of_the_app_and_reads_its_charset():
    def latin(_request: Request) -> Response:
        return Response("café".encode("latin-1"), media_type="text/plain; charset=latin-1")

    app = Starlette(routes=[Route("/latin", latin)])

    async def visit() -> tuple[int, str]:
        answer = await Browser(app).get("http://testserver/latin")
        return answer.status_code, answer.text

    assert asyncio.run(visit()) == (200, "café")
