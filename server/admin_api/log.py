"""The admin API's audit log: ``GET log/`` (who changed what, newest first)."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request

from server.admin_api.models import LogItem, LogList, LogQuery
from server.audit_log import LogFilter, read_log
from server.http.context import Grove
from server.rest.auth import Caller


def log(request: Request, app: Grove, caller: Caller, params: LogQuery) -> LogList:
    """GET log/: the matching changes, one page."""
    found = read_log(
        app.db,
        LogFilter(session=params.session, since=params.since, action=params.action),
        page=params.page,
        per_page=params.per_page,
    )
    return LogList(
        entries=[LogItem(**dataclasses.asdict(entry)) for entry in found.entries],
        page=found.page,
        per_page=found.per_page,
        total=found.total,
        next_page=found.page + 1 if found.has_next else None,
    )
