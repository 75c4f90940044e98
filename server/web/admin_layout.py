"""The admin area's frame: its layout's context, and the CSRF token of every admin form.

CSRF: each admin browser gets a random token in its admin session (the signed cookie), made
afresh at each login (logging in clears the session). Every admin form carries it as a hidden
field (``{{ csrf_field() }}``, a template global); every state-changing admin request
(``server/web/admin_actions.py``) must send it back, as that field or as an ``X-CSRF-Token``
header (for a page's script), and it is compared in constant time. A request without it, or
with another, is refused with a 403 page before anything is read or written. The cookie's
``SameSite=Lax`` already keeps it off other sites' POSTs; the token also covers browsers and
set-ups where that does not hold (a sibling subdomain is "same site").
"""

from __future__ import annotations

import hmac
import secrets
from functools import partial
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.http.context import grove

CSRF_SESSION_KEY = "csrf_token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def local_path(value: str | None, default: str) -> str:
    """``value`` if it is a path on this server (``/sessions?page=2``), else ``default``: never
    another site, however spelled (``//evil``, ``/\\evil``, which browsers read as ``//evil``,
    or with a control character a browser drops)."""
    if (
        value
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and value.isprintable()
    ):
        return value
    return default


def csrf_token(request: Request) -> str:
    """This admin browser's CSRF token, made (and stored in its admin session) on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def csrf_token_matches(request: Request, given: str | None) -> bool:
    """Is ``given`` this admin browser's token? Constant time; False without a token."""
    expected = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


@jinja2.pass_context
def csrf_field(context: Any) -> Markup:
    """``{{ csrf_field() }}``: the hidden input every admin form carries."""
    make_token = context.get("csrf_token")
    if not callable(make_token):
        raise RuntimeError("an admin form was rendered without render_admin (no CSRF token)")
    token = make_token()  # made on first use: a page without a form sets no cookie
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


def install_admin_globals(templates: jinja2.Environment) -> None:
    """Make ``csrf_field()`` available to Grove's admin templates."""
    templates.globals["csrf_field"] = csrf_field


def render_admin(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    admin: bool = True,
    status_code: int = 200,
) -> HTMLResponse:
    """Render an admin page (``grove/admin/*.html``): the navigation, and the CSRF token for
    its forms. ``admin`` False shows a visitor's navigation (the public demo) only."""
    app = grove(request)
    frame = {
        "csrf_token": partial(csrf_token, request),
        "nav_admin": admin,
        "nav_demo": app.settings.demo_open,
        "nav_logout": admin and app.settings.admin_login_required,
        "nav_path": request.url.path,
    }
    return app.render(template, {**frame, **context}, status_code=status_code)


def admin_message(
    request: Request, title: str, message: str, *, status_code: int, admin: bool = True
) -> HTMLResponse:
    """A plain admin page with a title and a message (refusals, confirmations)."""
    return render_admin(
        request,
        "grove/admin/message.html",
        {"title": title, "message": message},
        admin=admin,
        status_code=status_code,
    )


BAD_TOKEN = (
    "This form's security token is missing or out of date (the page was opened before your "
    "last login, or the request did not come from this site's admin pages), so nothing was "
    "changed. Reload the page and try again."
)
