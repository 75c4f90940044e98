"""The ASGI entry point for uvicorn workers (``--factory server.asgi:app_from_environment``)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from starlette.applications import Starlette

from server.app import create_app
from server.config import load_settings
from server.http.access_log import hide_keys_in_access_log
from server.http.lazy_routes import build_now


def app_from_environment(*, debug_info: bool = False) -> Starlette:
    """Build the app for the project in the current directory (or GROVE_PROJECT_ROOT), its
    lazy route tables included; keep API keys sent in query strings out of uvicorn's access
    log. ``debug_info``: show the debug panel unless GROVE_DEBUG_INFO says otherwise."""
    hide_keys_in_access_log()
    root = Path(os.environ.get("GROVE_PROJECT_ROOT", Path.cwd()))
    environ = dict(os.environ)
    if debug_info:
        environ.setdefault("GROVE_DEBUG_INFO", "1")
    app = create_app(load_settings(root, environ))
    # A worker serves the APIs sooner or later: their tables (lazy for bot runs and the CLI)
    # are built here, not by its first API request in the event loop's thread.
    build_now(app.routes)
    freeze_startup_objects()
    return app


def devserver_app() -> Starlette:
    """``otree devserver``'s app: ``app_from_environment`` with the debug panel under
    participants' pages, as oTree's devserver shows one (``GROVE_DEBUG_INFO=0`` hides it;
    production never shows it)."""
    return app_from_environment(debug_info=True)


def freeze_startup_objects() -> None:
    """Leave what start-up built (modules, the project, the models, the routes) out of
    every later garbage collection: a full collection, which holds the GIL and so stops the
    worker, then scans only what was made since. Without it each one took 60-340 ms on a
    worker serving live pages, about every 10 s."""
    gc.collect()
    gc.freeze()
