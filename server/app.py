"""``create_app(settings)``: the Starlette application, its routes and middleware."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from server.config import Settings
from server.currency import configure_currency_from
from server.db import Database
from server.errors import DatabaseUnavailable, GroveError
from server.http.context import BUILTIN_TEMPLATES, Grove
from server.http.errors import handle_grove_error, handle_http_exception, handle_unexpected
from server.http.lazy_routes import LazyRoutes
from server.http.middleware import GroveApp
from server.http.project_static import ProjectStaticFiles, static_directories
from server.i18n import install_translations
from server.project import load_project
from server.push_hub import PushHub
from server.rest.mounts import api_mounts
from server.rooms import load_rooms
from server.schema import prepare_database
from server.sessions import database_info
from server.templating import make_environment
from server.timeouts import submit_due_pages
from server.web import (
    admin_auth,
    chat_routes,
    demo_routes,
    live_routes,
    page_routes,
    participant_routes,
    room_routes,
)
from server.web.admin_layout import install_admin_globals
from server.web.page_rendering import install_template_tags
from server.worker_registry import keep_noting_worker

BUILTIN_STATIC = Path(__file__).resolve().parent / "static"


def home(request: Request) -> Response:
    """The root URL goes to the demo page (or the admin's session list when demo is off)."""
    settings: Settings = request.app.state.grove.settings
    return RedirectResponse("/demo" if settings.demo_open else "/sessions", status_code=303)


def _admin_pages() -> list[BaseRoute]:
    """The admin's session, monitor, data, key, log and export pages: imported on the first
    request that gets this far (a bot run and a participants' worker may never ask)."""
    from server.web import (
        admin_keys,
        admin_routes,
        data_routes,
        export_routes,
        log_routes,
        monitor_routes,
    )

    return [
        *admin_routes.routes,
        *monitor_routes.routes,
        *data_routes.routes,
        *admin_keys.routes,
        *log_routes.routes,
        *export_routes.routes,
    ]


def _lifespan() -> Callable[[Starlette], Any]:
    """Background work of each worker: auto-submitting pages whose time is up, and noting
    the worker in the database (``server/worker_registry.py``)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        grove = app.state.grove
        interval = grove.settings.timeout_poll_seconds
        stopping = asyncio.Event()

        async def expire_pages() -> None:
            logger = logging.getLogger("grove")
            unavailable = False  # said once while the database stays unavailable
            while not stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), interval)
                    return
                try:
                    await run_in_threadpool(submit_due_pages, grove.db, grove.project)
                except DatabaseUnavailable as exc:
                    if not unavailable:
                        logger.error("timed-out pages wait for the database: %s", exc)
                    unavailable = True
                except Exception:
                    logger.exception("timeout task failed")
                else:
                    if unavailable:
                        logger.warning("the database is back; timed-out pages are submitted")
                    unavailable = False

        task = asyncio.create_task(expire_pages())
        heartbeat = asyncio.create_task(keep_noting_worker(grove.db, stopping))
        try:
            yield
        finally:
            # Not task.cancel(): a sweep under way runs on in its thread, holding a database
            # connection after shutdown (and after the engine is disposed). Let it finish.
            stopping.set()
            await task
            await heartbeat
            await grove.push_hub.close()

    return lifespan


def _warn_if_api_open(settings: Settings, db: Database) -> None:
    if settings.rest_key or not logging.getLogger("grove").isEnabledFor(logging.WARNING):
        return  # nothing to say, or nobody to say it to (a bot run): no query, no import
    from server.api_keys import any_keys

    with db.read() as session:
        keys_exist = any_keys(session)
    if settings.rest_key or keys_exist:
        return
    if settings.api_key_required:
        logging.getLogger("grove").warning(
            "The REST API is closed: it needs a key and none is configured. Set "
            "OTREE_REST_KEY or create a key with `python -m server apikey create <user>`."
        )
    else:
        logging.getLogger("grove").warning(
            "The REST API is open: no OTREE_REST_KEY, no API key and no OTREE_AUTH_LEVEL. "
            "Create a key with `python -m server apikey create <user>` before a real study."
        )


def create_app(settings: Settings, *, database: Database | None = None) -> Starlette:
    """Build the application for one project and database; creates missing tables."""
    configure_currency_from(settings)
    project = load_project(settings)
    rooms = load_rooms(settings)  # refused before a database connection is opened
    db = database or Database(settings.database_url, lock_timeout=settings.db_lock_timeout_seconds)
    try:
        db.info.update(database_info(project))
        prepare_database(db, project)
    except BaseException:
        if database is None:
            db.dispose()  # a refused start leaves no connection open (PostgreSQL counts them)
        raise
    _warn_if_api_open(settings, db)
    app_directories = [app.directory for app in project.apps.values()]
    templates = make_environment(
        settings.root,
        BUILTIN_TEMPLATES,
        auto_reload=not settings.production,
        app_directories=app_directories,
    )
    install_template_tags(templates)
    install_translations(templates)
    install_admin_globals(templates)
    templates.globals["grove_chat_renderer"] = chat_routes.make_chat_renderer(settings.secret_key)
    project_static = static_directories(settings.root, app_directories)
    routes = [
        Route("/", home, methods=["GET"]),
        *demo_routes.routes,
        *participant_routes.routes,
        *live_routes.routes,
        *page_routes.routes,
        *admin_auth.routes,
        LazyRoutes(_admin_pages),  # in its place in the order: built on its first request
        *room_routes.routes,
        *chat_routes.routes,
        Mount("/grove_static", StaticFiles(directory=BUILTIN_STATIC), name="grove_static"),
    ]
    if project_static:
        routes.append(Mount("/static", ProjectStaticFiles(project_static), name="static"))
    routes += api_mounts()  # last: built on their first request
    app = GroveApp(
        settings,
        routes=routes,
        lifespan=_lifespan(),
        exception_handlers={
            GroveError: handle_grove_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
    app.state.grove = Grove(
        settings=settings,
        project=project,
        db=db,
        templates=templates,
        rooms=rooms,
        push_hub=PushHub(db, settings.live_retention_seconds),
    )
    return app
