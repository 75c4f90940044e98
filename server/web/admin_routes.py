"""Admin pages for sessions: the list, creating one, and a session's page (its tabs, its
description, archiving and deleting it). Each state change is an ``admin_action`` (login and
CSRF token checked) that calls one use case of ``server/session_admin.py``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.errors import InvalidArguments, NotFound, RoomNotFound, SessionNotFound
from server.http.context import grove
from server.rooms import all_rooms
from server.session_admin import (
    CONFIG_FIELD_PREFIX,
    AdminSessionRow,
    NewSessionForm,
    create_admin_session,
    create_form_choices,
    delete_session,
    links_tab,
    list_sessions_page,
    session_row,
    set_archived,
    set_description,
)
from server.session_payments import session_payments
from server.web.admin_actions import admin_action
from server.web.admin_auth import admin_required, admin_who, is_admin
from server.web.admin_layout import local_path, render_admin
from server.web.session_tabs import tab_bar


def _page_number(text: str | None) -> int:
    try:
        return int(text or "1")
    except ValueError:
        raise InvalidArguments(f"page must be a whole number, not {text!r}", field="page") from None


@admin_required
def session_list(request: Request) -> Response:
    """Sessions, newest first, a page at a time; ``?archived=1`` lists the archived ones."""
    app = grove(request)
    listing = list_sessions_page(
        app.db,
        page=_page_number(request.query_params.get("page")),
        archived=request.query_params.get("archived") == "1",
    )
    return render_admin(request, "grove/sessions.html", {"listing": listing})


def _create_form(
    request: Request,
    config_name: str | None,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    app = grove(request)
    configs = create_form_choices(app.project)
    chosen = next((c for c in configs if c.name == config_name), None)
    if config_name is not None and chosen is None:
        errors = {**errors, "__all__": f"There is no session config named {config_name!r}."}
        status_code = max(status_code, 400)
    elif config_name is None and configs:
        chosen = configs[0]
    return render_admin(
        request,
        "grove/admin/session_create.html",
        {
            "configs": configs,
            "chosen": chosen,
            "rooms": all_rooms(app.db, app.rooms),
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


@admin_required
def create_form(request: Request) -> Response:
    """oTree's "Create new session": a config, then its form (``?config=<name>``)."""
    return _create_form(request, request.query_params.get("config"), {}, {})


def _form_field(field: str | None) -> str:
    if field and field.startswith("modified_session_config_fields."):
        return CONFIG_FIELD_PREFIX + field.split(".", 1)[1]
    return field or "__all__"


@admin_action
def create(request: Request, form: dict[str, str]) -> Response:
    """Create the session the form describes; the form again, with the errors, if refused."""
    app = grove(request)
    config_name = form.get("config", "")
    submitted = NewSessionForm(
        config_name=config_name,
        num_participants=form.get("num_participants", ""),
        room_name=form.get("room", ""),
        label=form.get("label", ""),
        description=form.get("description", ""),
        config_values={
            key[len(CONFIG_FIELD_PREFIX) :]: value
            for key, value in form.items()
            if key.startswith(CONFIG_FIELD_PREFIX)
        },
    )
    try:
        created = create_admin_session(app.db, app.project, submitted, who=admin_who(request))
    except RoomNotFound as exc:
        return _create_form(request, config_name, form, {"room": str(exc)}, 400)
    except (InvalidArguments, NotFound) as exc:
        field = _form_field(getattr(exc, "field", None))
        return _create_form(request, config_name, form, {field: str(exc)}, 400)
    return RedirectResponse(f"/SessionStartLinks/{created.code}", status_code=303)


def session_home(request: Request) -> Response:
    """A session's page opens on its first tab."""
    return RedirectResponse(f"/SessionStartLinks/{request.path_params['code']}", status_code=303)


def otree_split_screen(request: Request) -> Response:
    """oTree's split screen of a demo session (``/SessionSplitScreen/<code>``): the Links
    tab's split view, which frames every participant's page side by side."""
    code = quote(request.path_params["code"], safe="")
    return RedirectResponse(f"/SessionStartLinks/{code}?view=split", status_code=303)


def session_page_context(
    request: Request, session: AdminSessionRow, *, can_manage: bool
) -> dict[str, Any]:
    """What the tab layout (``grove/admin/session_layout.html``) needs: the session (from
    the tab's use case, or ``session_admin.session_row``), the tab bar, and whether to show
    the description, archive and delete controls."""
    return {
        "session": session,
        "tabs": tab_bar(session.code, request.url.path),
        "can_manage": can_manage,
    }


def session_start_links(request: Request) -> Response:
    """The Links tab: the session-wide link, the room link, one link per participant with
    where each one is. Demo sessions are open to anyone while demo mode is open."""
    app = grove(request)
    code = request.path_params["code"]
    admin = is_admin(request)
    to_login = RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    if not (admin or app.settings.demo_open):
        return to_login  # before any read: a visitor learns nothing of which codes exist
    try:
        tab = links_tab(app.db, code)
    except SessionNotFound:
        if admin:
            raise
        return to_login
    links = tab.links
    if not (admin or links.is_demo):
        return to_login
    base = str(request.base_url).rstrip("/")
    room_path = links.summary.room_path
    return render_admin(
        request,
        "grove/session_links.html",
        {
            **session_page_context(request, tab.session, can_manage=admin),
            "participants": [
                {"participant": p, "url": base + p.start_path, "position": p.position}
                for p in links.participants
            ],
            "session_wide_url": base + links.summary.session_wide_path,
            "room_url": base + room_path if room_path else None,
            "split_view": request.query_params.get("view") == "split",
        },
        admin=admin,
    )


@admin_required
def session_payments_tab(request: Request) -> Response:
    """The Payments tab: payoff in points and money, participation fee and total per
    participant, and the sums (printable)."""
    code = request.path_params["code"]
    payments = session_payments(grove(request).db, code)
    return render_admin(
        request,
        "grove/admin/session_payments.html",
        {
            **session_page_context(request, payments.session, can_manage=True),
            "payments": payments,
        },
        status_code=400 if payments.problem else 200,
    )


@admin_action
def description(request: Request, form: dict[str, str]) -> Response:
    """Save a session's description."""
    code = request.path_params["code"]
    set_description(grove(request).db, code, form.get("description", ""), who=admin_who(request))
    return RedirectResponse(f"/SessionStartLinks/{code}", status_code=303)


def _back_to(form: dict[str, str], default: str) -> str:
    return local_path(form.get("next"), default)


@admin_action
def archive(request: Request, form: dict[str, str]) -> Response:
    """Archive (``archived=1``) or unarchive (``archived=0``) a session."""
    flag = form.get("archived")
    if flag not in ("0", "1"):
        raise InvalidArguments("archived must be 0 or 1", field="archived")
    set_archived(
        grove(request).db, request.path_params["code"], flag == "1", who=admin_who(request)
    )
    return RedirectResponse(_back_to(form, "/sessions"), status_code=303)


@admin_required
def delete_confirmation(request: Request) -> Response:
    """Ask before deleting: what the session is and what goes with it."""
    session = session_row(grove(request).db, request.path_params["code"])
    return render_admin(request, "grove/admin/session_delete.html", {"session": session})


@admin_action
def delete(request: Request, form: dict[str, str]) -> Response:
    """Delete the session and all its data, then show the sessions list."""
    app = grove(request)
    delete_session(app.db, app.project, request.path_params["code"], who=admin_who(request))
    return RedirectResponse("/sessions", status_code=303)


routes = [
    Route("/sessions", session_list, methods=["GET"]),
    Route("/sessions/create", create_form, methods=["GET"]),
    Route("/sessions/create", create, methods=["POST"]),
    Route("/sessions/{code:str}", session_home, methods=["GET"]),
    Route("/sessions/{code:str}/description", description, methods=["POST"]),
    Route("/sessions/{code:str}/archive", archive, methods=["POST"]),
    Route("/sessions/{code:str}/delete", delete_confirmation, methods=["GET"]),
    Route("/sessions/{code:str}/delete", delete, methods=["POST"]),
    Route("/SessionStartLinks/{code:str}", session_start_links, methods=["GET"]),
    Route("/SessionSplitScreen/{code:str}", otree_split_screen, methods=["GET"]),
    Route("/SessionPayments/{code:str}", session_payments_tab, methods=["GET"]),
]
