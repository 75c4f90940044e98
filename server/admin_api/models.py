"""The admin API's request parameters and answers, declared once as pydantic models (the
validation and the OpenAPI document are both made from them; see ``server/rest/models.py``
for the shared rules: unknown parameters are a 400 naming them)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from server.rest.models import Answer, Parameters


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


class CreateStudy(Parameters):
    """``POST studies/``: a urn study for a trial that runs elsewhere."""

    name: str = Field(description="the study's name, as the urn API's `study` parameter")
    config: dict[str, Any] = Field(
        description=(
            "the urn's keys, as a session config's urn=dict(...): treatments, factors, D, "
            "alpha, beta, w, urn_selection; without starting_seed it gets 64 random bits"
        )
    )


class StudySummary(Answer):
    """One urn study: its design and counts, never its seed or RNG state."""

    name: str
    treatments: list[str]
    factors: dict[str, list[str]] = Field(description="factor -> its levels")
    num_assigned: int = Field(description="participants randomized (imported ones included)")
    treatment_totals: dict[str, int] = Field(description="treatment -> participants assigned")
    defined_in: str = Field(description="settings (URN_STUDIES, read-only) or database")
    created_at: str | None = Field(
        description="ISO 8601 UTC; null for a settings study not used yet"
    )
