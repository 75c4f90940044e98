"""The admin's API keys page: list, create, regenerate, revoke per-user REST keys and set
their scope (read, write or admin; the ``apikey`` command's operations). A new key is shown
once, in the answer to the POST that made it, which no cache keeps (``Cache-Control:
no-store``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.api_key_admin import (
    create_user_key,
    key_holders,
    regenerate_user_key,
    revoke_user_key,
    set_user_scope,
)
from server.api_keys import SCOPES
from server.errors import InvalidArguments
from server.http.context import grove
from server.web.admin_actions import admin_action
from server.web.admin_auth import admin_required, admin_who
from server.web.admin_layout import render_admin


def _page(
    request: Request,
    *,
    new_key: tuple[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    response = render_admin(
        request,
        "grove/admin/api_keys.html",
        {
            "holders": key_holders(grove(request).db),
            "scopes": SCOPES,
            "new_key": new_key,
            "error": error,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_required
def keys_page(request: Request) -> Response:
    """Every user with a key, and the form to create one."""
    return _page(request)


@admin_action
def create(request: Request, form: dict[str, str]) -> Response:
    """Create a key of the chosen scope for a new user and show it once."""
    user = form.get("user", "").strip()
    try:
        key = create_user_key(
            grove(request).db, user, form.get("scope", "admin"), who=admin_who(request)
        )
    except InvalidArguments as exc:
        return _page(request, error=str(exc), status_code=400)
    return _page(request, new_key=(user, key))


@admin_action
def regenerate(request: Request, form: dict[str, str]) -> Response:
    """Give the user a new key (the old one stops working) and show it once."""
    user = request.path_params["user"]
    key = regenerate_user_key(grove(request).db, user, who=admin_who(request))
    return _page(request, new_key=(user, key))


@admin_action
def set_scope(request: Request, form: dict[str, str]) -> Response:
    """Change the scope of the user's key (the key itself stays the same)."""
    try:
        set_user_scope(
            grove(request).db,
            request.path_params["user"],
            form.get("scope", ""),
            who=admin_who(request),
        )
    except InvalidArguments as exc:
        return _page(request, error=str(exc), status_code=400)
    return RedirectResponse("/apikeys", status_code=303)


@admin_action
def revoke(request: Request, form: dict[str, str]) -> Response:
    """Delete the user's key."""
    revoke_user_key(grove(request).db, request.path_params["user"], who=admin_who(request))
    return RedirectResponse("/apikeys", status_code=303)


routes = [
    Route("/apikeys", keys_page, methods=["GET"]),
    Route("/apikeys", create, methods=["POST"]),
    Route("/apikeys/{user:str}/regenerate", regenerate, methods=["POST"]),
    Route("/apikeys/{user:str}/revoke", revoke, methods=["POST"]),
    Route("/apikeys/{user:str}/scope", set_scope, methods=["POST"]),
]
