"""Where the REST API, the admin API and the urn API's reference paths sit in the app's route
list, each table built on its first request (``server/http/lazy_routes.py``): a process that
serves only pages, or only runs bots, never imports the APIs' models."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount

from server.http.lazy_routes import LazyRouter, LazyRoutes


def _rest_routes() -> list[BaseRoute]:
    from server.rest.routes import api_routes

    return api_routes


def _admin_api_routes() -> list[BaseRoute]:
    from server.admin_api.routes import admin_api_routes

    return admin_api_routes


def _urn_reference_routes() -> list[BaseRoute]:
    from server.rest.routes import urn_reference_routes

    return urn_reference_routes


def api_mounts() -> list[BaseRoute]:
    """``/api/...``, ``/admin/api/v1/...`` and the urn API's ``/study_config`` and
    ``/study_participants``: to put after every route whose name is looked up."""
    return [
        Mount("/api", app=LazyRouter(_rest_routes)),
        Mount("/admin/api/v1", app=LazyRouter(_admin_api_routes)),
        LazyRoutes(_urn_reference_routes),
    ]
