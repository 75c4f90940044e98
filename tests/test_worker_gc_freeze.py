"""A worker leaves what its start-up built out of later garbage collections: a full
collection holds the GIL and stops the worker (its live pages' deliveries too) for as long as
it scans, and start-up objects (modules, the project, the models) are most of what it would
scan."""

from __future__ import annotations

import gc

import server.asgi as asgi


def test_the_worker_factory_freezes_what_start_up_built(monkeypatch):
    monkeypatch.setattr(asgi, "load_settings", lambda root, environ: None)
    monkeypatch.setattr(asgi, "create_app", lambda settings: object())
    before = gc.get_freeze_count()
    try:
        asgi.app_from_environment()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # the test process's objects are collected as before
