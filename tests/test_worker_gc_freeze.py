"""A worker leaves what its start-up built out of later garbage collections: a full
collection holds the GIL and stops the worker (its live pages' deliveries too) for as long as
it scans, and start-up objects (modules, the project, the models) are most of what it would
scan."""

from __future__ import annotations

import gc

from starlette.applications import Starlette

import server.asgi as asgi


def test_the_worker_factory_freezes_what_start_up_built(monkeypatch):
    monkeypatch.setattr(asgi, "load_settings", lambda root, environ: None)
    monkeypatch.setattr(asgi, "create_app", lambda settings: Starlette())
    before = gc.get_freeze_count()
    try:
        asgi.app_from_environment()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # the test process's objects are collected as before


def test_the_worker_factory_builds_the_lazy_api_tables(monkeypatch):
    """A worker's first API request finds its route table built (the CLI and bot runs still
    build it only on use): the build, importing the APIs' models, no longer runs in the
    event loop's thread while other requests wait."""
    from starlette.routing import Mount, Route

    from server.http.lazy_routes import LazyRouter, LazyRoutes

    loads: list[str] = []

    def table(name: str):
        def load():
            loads.append(name)
            return [Route(f"/{name}", lambda request: None)]

        return load

    app = Starlette(
        routes=[Mount("/api", app=LazyRouter(table("api"))), LazyRoutes(table("reference"))]
    )
    monkeypatch.setattr(asgi, "load_settings", lambda root, environ: None)
    monkeypatch.setattr(asgi, "create_app", lambda settings: app)
    monkeypatch.setattr(asgi, "freeze_startup_objects", lambda: None)
    assert asgi.app_from_environment() is app
    assert sorted(loads) == ["api", "reference"]


def test_the_api_tables_stay_unbuilt_in_an_app_made_for_bots(settings):
    """Only the worker factory builds them: an app made by create_app (bots, tests) does not
    import the APIs' models until asked."""
    from starlette.routing import Mount

    from server.app import create_app
    from server.http.lazy_routes import LazyRouter

    app = create_app(settings)
    try:
        mounts = [r for r in app.routes if isinstance(r, Mount) and isinstance(r.app, LazyRouter)]
        assert mounts
        assert all(mount.app._router is None for mount in mounts)
    finally:
        app.state.grove.db.dispose()
