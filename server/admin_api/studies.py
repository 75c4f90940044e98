"""``studies/``: urn studies of trials that run elsewhere (``server/randomization/studies.py``).

Randomizing and reading a study's log stay on the urn API's own paths (``/study_config``,
``/study_participants``); these list studies, show one and create one.
"""

from __future__ import annotations

from starlette.requests import Request

from server.admin_api.models import CreateStudy, StudySummary
from server.http.context import Grove
from server.randomization import studies
from server.rest.auth import Caller
from server.rest.models import NoParameters
from server.session_queries import iso_utc


def _answer(summary: studies.StudySummary) -> StudySummary:
    return StudySummary(
        name=summary.name,
        treatments=summary.treatments,
        factors=summary.factors,
        num_assigned=summary.num_assigned,
        treatment_totals=summary.treatment_totals,
        defined_in=summary.defined_in,
        created_at=iso_utc(summary.created_at),
    )


def list_studies(
    request: Request, app: Grove, caller: Caller, params: NoParameters
) -> list[StudySummary]:
    """Every study, by name, with its counts."""
    return [_answer(s) for s in studies.list_studies(app.db, app.settings.urn_studies)]


def study_detail(
    request: Request, app: Grove, caller: Caller, params: NoParameters
) -> StudySummary:
    """One study (404 if unknown)."""
    name = request.path_params["name"]
    return _answer(studies.study_summary(app.db, app.settings.urn_studies, name))


def create_study(request: Request, app: Grove, caller: Caller, params: CreateStudy) -> StudySummary:
    """Create a study (409 if the name is taken or defined in settings.py)."""
    return _answer(
        studies.create_study(
            app.db, app.settings.urn_studies, params.name, params.config, who=caller.who
        )
    )
