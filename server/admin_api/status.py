"""``GET /admin/api/v1/status/``: the server's version, database and migrations."""

from __future__ import annotations

from starlette.requests import Request

from server.admin_api.models import Status, WorkerInfo
from server.http.context import Grove
from server.rest.auth import Caller
from server.rest.models import NoParameters
from server.server_status import server_status

MIB = 1024 * 1024


def status(request: Request, app: Grove, caller: Caller, params: NoParameters) -> Status:
    """The server's status (``server.server_status``)."""
    found = server_status(app.db)
    size = found.database_size_bytes
    return Status(
        version=found.version,
        database=found.database,
        database_size_bytes=size,
        database_size_mb=round(size / MIB, 3) if size is not None else None,
        schema_revision=found.schema_revision,
        schema_head=found.schema_head,
        migrations_pending=found.migrations_pending,
        workers=[WorkerInfo(**worker.__dict__) for worker in found.workers],
        public_demo=False,
    )
