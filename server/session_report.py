"""A session's Report tab (oTree's "Reports", ``vars_for_admin_report``): an app's report for
one round, rendered from the app's ``admin_report.html``; one read, no HTTP.

As oTree documents it (``admin.rst``, "Admin reports"): an app has a report when it has an
``admin_report.html`` (``<app>/admin_report.html``, or oTree's older place,
``<app>/templates/<app>/admin_report.html``, the app being at the root or in ``apps/``); the
template needs no ``{% block %}`` and sees ``subsession``, ``session`` and ``C``, plus what
the app's optional ``vars_for_admin_report(subsession)`` returns (a dict, as
``vars_for_template``). The tab chooses the app and the round. The template renders through
the project's templates (oTree tags, autoescaped) inside the same read as the hook, so it may
call methods of the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.db import Database
from server.errors import ConfigurationError, InvalidArguments
from server.project import AppSpec, Project
from server.session_admin import AdminSessionRow, admin_row
from server.session_data import AppRound, choose
from server.sessions import get_session

# Renders a template of the project by name with a context; returns the HTML (autoescaped).
ReportRenderer = Callable[[str, dict[str, Any]], str]


@dataclass(frozen=True)
class SessionReport:
    """The Report tab: the session's apps that have a report (``apps``; empty: the session
    has none), the one ``chosen`` and its rendered ``html`` (None when there is none)."""

    session: AdminSessionRow
    apps: list[AppRound]
    chosen: AppRound | None
    html: str | None


def report_template(app: AppSpec) -> str | None:
    """The template name of the app's admin report, or None if the app has none."""
    for relative in (
        ("admin_report.html",),
        ("templates", app.name, "admin_report.html"),
    ):
        if app.directory.joinpath(*relative).is_file():
            return "/".join((app.name, *relative))
    return None


def session_report(
    database: Database,
    project: Project,
    code: str,
    render: ReportRenderer,
    *,
    app: str | None = None,
    round_number: int | None = None,
) -> SessionReport:
    """The report of session ``code``'s ``app`` (the first app with a report by default) for
    round ``round_number`` (1 by default). Raises SessionNotFound, InvalidArguments (an app
    without a report, a round it has not), ConfigurationError (vars_for_admin_report returned
    something other than a dict); an error of the app's hook or template is raised as it is.
    """
    with database.read() as db:
        session = get_session(db, code)
        with_report = [
            a
            for a in choose(project, session, None, None)[0]
            if report_template(project.apps[a.app])
        ]
        if not with_report:
            return SessionReport(admin_row(session), [], None, None)
        _apps, chosen = choose(project, session, app or with_report[0].app, round_number)
        assert chosen is not None
        spec = project.apps[chosen.app]
        template = report_template(spec)
        if template is None:
            raise InvalidArguments(f"{chosen.app} has no admin_report.html", field="app")
        subsession = db.scalars(
            sa.select(spec.subsession_cls).where(
                spec.subsession_cls.session_id == session.id,
                spec.subsession_cls.round_number == chosen.round_number,
            )
        ).one()
        context: dict[str, Any] = {
            "subsession": subsession,
            "session": session,
            "C": spec.constants,
        }
        hook = spec.hook("vars_for_admin_report")
        if hook is not None:
            extra = hook(subsession)
            if extra is not None and not isinstance(extra, dict):
                raise ConfigurationError(
                    f"{spec.location}: vars_for_admin_report must return a dict, "
                    f"not {type(extra).__name__}"
                )
            context.update(extra or {})
        html = render(template, context)
        return SessionReport(admin_row(session), with_report, chosen, html)
