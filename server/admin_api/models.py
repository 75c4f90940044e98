"""The admin API's request parameters and answers, declared once as pydantic models (the
validation and the OpenAPI document are both made from them; see ``server/rest/models.py``
for the shared rules: unknown parameters are a 400 naming them)."""

from __future__ import annotations

from pydantic import Field

from server.rest.models import Answer


class Status(Answer):
    """``GET status/``."""

    version: str = Field(description="Grove's version")
    database: str = Field(description="sqlite or postgresql")
    database_size_bytes: int | None = Field(description="on disk; null when unknown")
    database_size_mb: float | None = Field(description="the same in MiB (uproot's field)")
    schema_revision: str | None = Field(description="the database's migration revision")
    schema_head: str = Field(description="this Grove's newest migration revision")
    migrations_pending: bool = Field(description="true until `python -m server migrate` runs")
    public_demo: bool = Field(description="uproot's field: always false")
