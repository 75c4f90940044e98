"""Errors raised while reading a request, before any domain code runs."""

from __future__ import annotations


class RequestError(Exception):
    """A request the API refuses: status and a message that says what is wrong."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
