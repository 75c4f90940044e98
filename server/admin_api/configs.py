"""The admin API's session configs: ``configs/`` and ``configs/{cname}/summary/``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.admin_api.session_models import (
    AppInfo,
    ConfigFieldInfo,
    ConfigInfo,
    ConfigSummaryAnswer,
)
from server.config_catalog import ConfigSummary, config_summaries, config_summary
from server.http.context import Grove
from server.rest.auth import Caller
from server.rest.models import NoParameters
from server.typed_json import plain


def _info(summary: ConfigSummary) -> dict[str, Any]:
    return {
        "name": summary.name,
        "display_name": summary.display_name,
        "doc": summary.doc,
        "apps": [AppInfo(**app.__dict__) for app in summary.apps],
        "num_demo_participants": summary.num_demo_participants,
        "multiple_of": summary.multiple_of,
        "fields": [
            ConfigFieldInfo(name=field.name, kind=field.kind, value=plain(field.value))
            for field in summary.fields
        ],
    }


def list_configs(
    request: Request, app: Grove, caller: Caller, params: NoParameters
) -> dict[str, ConfigInfo]:
    """GET configs/: every session config by name, with its apps and fields."""
    return {summary.name: ConfigInfo(**_info(summary)) for summary in config_summaries(app.project)}


def summary(
    request: Request, app: Grove, caller: Caller, params: NoParameters
) -> ConfigSummaryAnswer:
    """GET configs/{cname}/summary/."""
    found = config_summary(app.project, str(request.path_params["cname"]))
    return ConfigSummaryAnswer(
        **_info(found), summary=found.text, settings=found.settings(), num_pages=found.num_pages
    )
