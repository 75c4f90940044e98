"""The server's access log never shows an API key sent as ``?api_key=`` (the urn reference
API's way, accepted on every API): uvicorn logs each request's path with its query string, so
``python -m server devserver`` printed the key of every such request."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

import server.asgi as asgi
from server.http.access_log import ACCESS_LOGGER, HideApiKeys, without_keys

KEY = "s3cr3t-KEY_value"


@pytest.fixture
def access_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger(ACCESS_LOGGER)
    before = list(logger.filters)
    yield logger
    logger.filters[:] = before


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/study_config?study=My+Study&api_key={KEY}", "/study_config?study=My+Study&api_key=***"),
        (f"/api/sessions?api_key={KEY}", "/api/sessions?api_key=***"),
        (f"/x?api%5Fkey={KEY}&a=1", "/x?api%5Fkey=***&a=1"),
        ("/p/abc/1?x=api_key", "/p/abc/1?x=api_key"),
        ("/p/abc/1", "/p/abc/1"),
    ],
)
def test_the_key_in_a_query_string_is_hidden(path, shown):
    assert without_keys(path) == shown


def test_the_app_factory_hides_keys_in_uvicorns_access_log(access_logger, monkeypatch, caplog):
    monkeypatch.setattr(asgi, "load_settings", lambda root, environ: None)
    monkeypatch.setattr(asgi, "create_app", lambda settings: Starlette())
    monkeypatch.setattr(asgi, "freeze_startup_objects", lambda: None)  # not this process's
    asgi.app_from_environment()
    asgi.app_from_environment()  # a reloaded worker: still one filter
    assert sum(isinstance(f, HideApiKeys) for f in access_logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        # As uvicorn's HTTP protocols log a request.
        access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            f"/study_config?api_key={KEY}",
            "1.1",
            200,
        )
    assert caplog.messages == ['127.0.0.1:5000 - "GET /study_config?api_key=*** HTTP/1.1" 200']
