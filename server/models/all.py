"""Imports every module that defines Grove's fixed tables, so that they are all registered
on ``Base.metadata`` before a project copies it. Add new model modules here."""

from server.models import admin, api_keys, chat, core, pending_vars, rooms, urn

__all__ = ["admin", "api_keys", "chat", "core", "pending_vars", "rooms", "urn"]
