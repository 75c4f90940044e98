"""Imports every module that defines Grove's fixed tables, so that they are all registered
on ``Base.metadata`` before a project copies it. Add new model modules here."""

from server.models import (
    admin,
    api_keys,
    audit_log,
    chat,
    core,
    export_log,
    pending_vars,
    push,
    rate_limits,
    rooms,
    urn,
    workers,
)

__all__ = [
    "admin",
    "api_keys",
    "audit_log",
    "chat",
    "core",
    "export_log",
    "pending_vars",
    "push",
    "rate_limits",
    "rooms",
    "urn",
    "workers",
]

# Registers the flush hooks that stamp each changed participant for incremental exports.
from server import change_sequence as _change_sequence  # noqa: F401

# Registers the flush hook that checks rows written without their lock (PostgreSQL).
from server import unlocked_writes as _unlocked_writes  # noqa: F401
