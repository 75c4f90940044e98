"""The values behind ``otree.settings`` (kept apart so that module holds no other names)."""

from __future__ import annotations

import os
from itertools import chain
from pathlib import Path
from types import ModuleType
from typing import Any

from server.config import Settings, import_project_file, load_settings
from server.currency import decimal_separator_of
from server.errors import ConfigurationError

# The environment variables load_settings reads: a change to one gives new values.
_ENVIRONMENT_PREFIXES = ("OTREE_", "GROVE_", "DATABASE_URL")

_cache: dict[tuple[Path, frozenset[tuple[str, str]]], dict[str, Any]] = {}


def _project_root() -> Path:
    from server.cli.common import project_root

    return project_root()


def _public_names(module: ModuleType) -> dict[str, Any]:
    """What ``from module import *`` would bind."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    return {name: getattr(module, name) for name in names}


def _locale_name(language_code: str) -> str:
    """oTree's LANGUAGE_CODE_ISO: ``de-at`` -> ``de_AT``, ``zh-hans`` -> ``zh_Hans``."""
    if language_code == "zh-hans":
        return "zh_Hans"
    language, _, region = language_code.partition("-")
    return f"{language}_{region.upper()}" if region else language_code


def settings_values(root: Path, grove: Settings) -> dict[str, Any]:
    """Every name ``otree.settings`` has for the project at ``root`` served with ``grove``."""
    module = import_project_file(root, "settings.py")
    values: dict[str, Any] = {
        "SESSION_CONFIGS": [],
        "SESSION_CONFIG_DEFAULTS": {},
        "PARTICIPANT_FIELDS": [],
        "SESSION_FIELDS": [],
        "ROOMS": [],
        "LANGUAGE_CODE": "en",
        "ADMIN_USERNAME": "admin",
        "DEMO_PAGE_INTRO_HTML": "",
        "BOTS_CHECK_HTML": True,
        "AUTO_TABULATE_PAYOFFS": True,
    }
    layout_configs = import_project_file(root, "session_configs.py")
    if layout_configs is not None:
        for name in ("SESSION_CONFIGS", "SESSION_CONFIG_DEFAULTS"):
            if hasattr(layout_configs, name):
                values[name] = getattr(layout_configs, name)
    if module is not None:
        values.update(_public_names(module))
    values.update(
        DEBUG=not grove.production,
        AUTH_LEVEL=grove.auth_level,
        ADMIN_PASSWORD=grove.admin_password,
        REAL_WORLD_CURRENCY_CODE=grove.real_world_currency_code,
        REAL_WORLD_CURRENCY_DECIMAL_PLACES=grove.real_world_currency_decimal_places,
        USE_POINTS=grove.use_points,
        POINTS_DECIMAL_PLACES=grove.points_decimal_places,
        POINTS_CUSTOM_NAME=grove.points_custom_name,
        THOUSAND_SEPARATOR=grove.thousand_separator,
    )
    language_code = str(values["LANGUAGE_CODE"])
    values["LANGUAGE_CODE_ISO"] = _locale_name(language_code)
    values["DECIMAL_SEPARATOR"] = decimal_separator_of(language_code)
    app_sequences = (config.get("app_sequence", []) for config in values["SESSION_CONFIGS"])
    values["OTREE_APPS"] = list(dict.fromkeys(chain.from_iterable(app_sequences)))
    return values


def _values() -> dict[str, Any]:
    root = _project_root()
    environ = {
        name: value for name, value in os.environ.items() if name.startswith(_ENVIRONMENT_PREFIXES)
    }
    key = (root, frozenset(environ.items()))
    if key not in _cache:
        if not (root / "settings.py").is_file():
            raise ConfigurationError(
                f"Cannot find the project's settings: {root / 'settings.py'} does not exist. "
                "Run Grove from your project's folder (the one that holds settings.py)."
            )
        _cache[key] = settings_values(root, load_settings(root, environ))
    return _cache[key]


def current_values() -> dict[str, Any]:
    """The settings of the project Grove serves now (cached while root and environment stay)."""
    return _values()


def setting(name: str) -> Any:
    """One attribute of ``otree.settings``; AttributeError for a name the project lacks."""
    if name.startswith("__"):
        if name == "__all__":
            return sorted(_values())
        raise AttributeError(name)
    values = _values()
    if name not in values:
        raise AttributeError(f"settings.py of {_project_root()} has no {name}")
    return values[name]
