"""The ASGI entry point for uvicorn workers (``--factory server.asgi:app_from_environment``)."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette

from server.app import create_app
from server.config import load_settings
from server.http.access_log import hide_keys_in_access_log


def app_from_environment() -> Starlette:
    """Build the app for the project in the current directory (or GROVE_PROJECT_ROOT); keep
    API keys sent in query strings out of uvicorn's access log."""
    hide_keys_in_access_log()
    root = Path(os.environ.get("GROVE_PROJECT_ROOT", Path.cwd()))
    return create_app(load_settings(root, os.environ))
