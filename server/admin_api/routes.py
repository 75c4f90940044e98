"""The admin API's operations, declared once: ``ENDPOINTS`` makes both the route table
(mounted at ``/admin/api/v1`` by ``server/app.py``) and its part of the OpenAPI document
(``/api/openapi.json``). Every path answers with and without its trailing slash.

Paths follow the uproot Admin API reference, with Grove's names: ``{sname}`` is a session
code, ``unames`` are participant codes or labels, ``{cname}`` a session config name.

HOW TO ADD AN ENDPOINT

1. Write the use case as a domain function (no Starlette, no pydantic): it opens its own unit
   of work (``Database.run`` / ``read``), takes locks in ``server/db.py``'s LOCK ORDER,
   raises domain errors (``NotFound`` 404, ``InvalidArguments`` 400, ...; one table in
   ``server/http/errors.py`` maps them) and returns a small result.
2. Declare its parameters and answer in ``server/admin_api/models.py`` (parameters subclass
   ``server.rest.models.Parameters``: unknown fields are a 400 naming them).
3. Write the handler ``(request, app: Grove, caller: Caller, params) -> answer`` in a module
   of this package named after its area (``sessions.py``, ``players.py``, ...): it only calls
   the domain function and shapes the answer. ``caller.user`` is the key's user, to record
   who changed what.
4. Append ``Endpoint(method, "/admin/api/v1/...", operationId, summary, handler, Params,
   Answer, errors, scope=...)`` below. Path parameters are ``{name}`` and are not part of
   ``Params``; the handler reads them from ``request.path_params``.

SCOPES (``server/api_keys.py``'s SCOPES; each allows what the ones before it allow)

* ``read``: every GET, data exports included;
* ``write``: what changes data but not the study's course: vars, creating sessions;
* ``admin``: everything else (participants' actions, descriptions, settings, archiving,
  deleting, rooms, keys).

Declare the scope on each endpoint (``scope="read"`` on a GET that is a read). An endpoint
without one needs ``read`` for a GET and ``admin`` for any other method. Every call needs a
key (``otree-rest-key``, ``Authorization: Bearer`` or ``?api_key=``): 401 without a valid
one, 403 when its scope is too low, both in the one JSON error shape.
"""

from __future__ import annotations

from server.admin_api import models, status, studies
from server.rest import models as rest_models
from server.rest.route_table import routes
from server.rest.spec import Endpoint

PREFIX = "/admin/api/v1"
READ = (401, 403)

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        f"{PREFIX}/status/",
        "adminStatus",
        "Server status: version, database kind and size, migrations pending",
        status.status,
        rest_models.NoParameters,
        models.Status,
        READ,
        scope="read",
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/studies/",
        "listStudies",
        "Urn studies with their counts (never a seed or RNG state)",
        studies.list_studies,
        rest_models.NoParameters,
        list[models.StudySummary],
        READ,
        scope="read",
    ),
    Endpoint(
        "POST",
        f"{PREFIX}/studies/",
        "createStudy",
        "Create a urn study for a trial that runs elsewhere",
        studies.create_study,
        models.CreateStudy,
        models.StudySummary,
        (400, 401, 403, 409),
        scope="write",
        description=(
            "The study then randomizes over the urn API (/study_config, /study_participants). "
            "409: the name is taken, or settings.py's URN_STUDIES defines it."
        ),
    ),
    Endpoint(
        "GET",
        f"{PREFIX}/study/{{name}}/",
        "getStudy",
        "One urn study with its counts",
        studies.study_detail,
        rest_models.NoParameters,
        models.StudySummary,
        (*READ, 404),
        scope="read",
    ),
]

admin_api_routes = routes(ENDPOINTS, prefix=PREFIX, key_required=True, unauthenticated_status=401)
