"""Errors raised while reading a request, before any domain code runs."""

from __future__ import annotations


class RequestError(Exception):
    """A request the API refuses: status and a message that says what is wrong (and, when
    several fields are bad, one ``{"field", "message"}`` for each)."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.errors = errors or []
