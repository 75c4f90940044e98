"""The admin login: a signed session cookie (itsdangerous, via Starlette's SessionMiddleware)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.http.context import grove


def is_admin(request: Request) -> bool:
    """Is this request from a logged-in admin (or is no login required)?"""
    settings = grove(request).settings
    if not settings.admin_login_required:
        return True
    return request.session.get("admin") is True


def admin_required(view: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Decorator: send anyone who is not logged in to the login page."""

    @wraps(view)
    def wrapper(request: Request) -> Response:
        if not is_admin(request):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return view(request)

    return wrapper


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/sessions"


async def login(request: Request) -> Response:
    """Show the login form, or check the submitted credentials in constant time."""
    app = grove(request)
    error = None
    next_url = _safe_next(request.query_params.get("next"))
    if request.method == "POST":
        form = await request.form()
        username = str(form.get("username", ""))
        password = str(form.get("password", ""))
        settings = app.settings
        user_ok = hmac.compare_digest(username.encode(), settings.admin_username.encode())
        password_ok = bool(settings.admin_password) and hmac.compare_digest(
            password.encode(), settings.admin_password.encode()
        )
        if user_ok and password_ok:
            request.session["admin"] = True
            return RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)
        error = "Wrong username or password."
    status = 401 if error else 200
    return app.render("grove/login.html", {"error": error, "next": next_url}, status_code=status)


def logout(request: Request) -> Response:
    """Forget the admin login."""
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["GET", "POST"]),
]
