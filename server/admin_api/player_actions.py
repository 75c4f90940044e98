"""``session/{sname}/players/<action>/``: advance, revert, end, dropout, reload, redirect,
message, and ``fields`` (PATCH: set participant fields), on participant codes or labels
(``server/participant_actions.py``).

Every action answers ``{<done>: [participant codes], "skipped": [{"uname", "reason"}]}``,
``<done>`` named as in the uproot reference (``reloaded``, ``redirected`` with ``url``,
``messaged``, ``marked_dropout``) or after the action (``advanced``, ``reverted``, ``ended``,
which also answer ``positions``: code -> the page each is on now).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from starlette.requests import Request

from server import participant_actions as actions
from server.admin_api.models import (
    PlayersAction,
    PlayersActionAnswer,
    PlayersFields,
    PlayersMessage,
    PlayersRedirect,
    SkippedUname,
)
from server.db import Database
from server.errors import InvalidArguments
from server.http.context import Grove
from server.page_commands import MessageCommand, RedirectCommand, ReloadCommand
from server.project import Project
from server.rest.auth import Caller


class Move(Protocol):
    """A participants' action of ``server.participant_actions`` that moves them."""

    def __call__(
        self,
        database: Database,
        project: Project,
        session_code: str,
        unames: Sequence[str],
        *,
        who: str,
    ) -> actions.ActionReport: ...


def _answer(
    done: str, report: actions.ActionReport, *, positions: bool = False, **extra: object
) -> PlayersActionAnswer:
    body: dict[str, object] = {done: report.applied, **extra}
    if positions:
        body["positions"] = report.positions
    return PlayersActionAnswer(
        skipped=[SkippedUname(uname=s.uname, reason=s.reason) for s in report.skipped], **body
    )


def _move(
    done: str, action: Move, request: Request, app: Grove, caller: Caller, unames: list[str]
) -> PlayersActionAnswer:
    report = action(app.db, app.project, request.path_params["sname"], unames, who=caller.who)
    return _answer(done, report, positions=True)


def advance(
    request: Request, app: Grove, caller: Caller, params: PlayersAction
) -> PlayersActionAnswer:
    """Each one page on: a page submitted as its timeout would, a wait page as an arrival."""
    return _move("advanced", actions.advance, request, app, caller, params.unames)


def revert(
    request: Request, app: Grove, caller: Caller, params: PlayersAction
) -> PlayersActionAnswer:
    """Each one page back, within the app and round, never across a completed wait page."""
    return _move("reverted", actions.revert, request, app, caller, params.unames)


def end(request: Request, app: Grove, caller: Caller, params: PlayersAction) -> PlayersActionAnswer:
    """Each to the end of the session (finished)."""
    return _move("ended", actions.end, request, app, caller, params.unames)


def dropout(
    request: Request, app: Grove, caller: Caller, params: PlayersAction
) -> PlayersActionAnswer:
    """Mark each as dropped out; their pages are then submitted as timeouts, at once."""
    sname = request.path_params["sname"]
    report = actions.mark_dropouts(app.db, app.project, sname, params.unames, who=caller.who)
    return _answer("marked_dropout", report)


def reload(
    request: Request, app: Grove, caller: Caller, params: PlayersAction
) -> PlayersActionAnswer:
    """Reload each one's open page."""
    sname = request.path_params["sname"]
    report = actions.command_pages(app.db, sname, params.unames, ReloadCommand(), who=caller.who)
    return _answer("reloaded", report)


def redirect(
    request: Request, app: Grove, caller: Caller, params: PlayersRedirect
) -> PlayersActionAnswer:
    """Send each one's open page to an absolute http(s) URL."""
    command = RedirectCommand(params.url)  # a URL that is not http(s) is a 400 here
    sname = request.path_params["sname"]
    report = actions.command_pages(app.db, sname, params.unames, command, who=caller.who)
    return _answer("redirected", report, url=params.url)


def message(
    request: Request, app: Grove, caller: Caller, params: PlayersMessage
) -> PlayersActionAnswer:
    """Show a message on each one's open page."""
    try:
        command = MessageCommand(params.message)
    except InvalidArguments as exc:  # named after the body's field, not the command's
        raise InvalidArguments(str(exc), field="message") from None
    sname = request.path_params["sname"]
    report = actions.command_pages(app.db, sname, params.unames, command, who=caller.who)
    return _answer("messaged", report)


def fields(
    request: Request, app: Grove, caller: Caller, params: PlayersFields
) -> PlayersActionAnswer:
    """Set participant fields (PARTICIPANT_FIELDS, label) on each; reload their pages if
    asked."""
    report = actions.set_fields(
        app.db,
        app.project,
        request.path_params["sname"],
        params.unames,
        params.fields,
        reload=params.reload,
        who=caller.who,
    )
    return _answer("updated", report, fields=list(params.fields))
