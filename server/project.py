"""Loading an oTree-style project: ``apps/``, ``session_configs.py``, ``shared_out.py``.

Loading happens once per project root and process; a mistake in a project file is a
ConfigurationError that names the file (and the key or class).
"""

from __future__ import annotations

import importlib
import logging
import math
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry

from server.config import Settings, import_project_file
from server.errors import ConfigurationError
from server.fields import Field
from server.model_bases import BaseGroup, BasePlayer, BaseSubsession
from server.models import all as _all_tables  # noqa: F401 - registers every table
from server.models.app_tables import build_app_tables, collect_fields, map_app_classes
from server.models.base import Base
from server.page_classes import Page, WaitPage
from server.session_config_values import BUILTIN_DEFAULTS, ConfigValueError, checked_config

RESERVED_CONFIG_KEYS = frozenset({"name", "app_sequence", "display_name", "doc"})


@dataclass
class AppSpec:
    """One app of the project, as loaded from ``apps/<name>/__init__.py``."""

    name: str
    module: types.ModuleType
    directory: Path
    constants: type[Any]
    subsession_cls: type[Any]
    group_cls: type[Any]
    player_cls: type[Any]
    page_sequence: list[type[Any]]
    fields: dict[str, dict[str, Field]]
    roles: list[str]

    @property
    def num_rounds(self) -> int:
        return int(getattr(self.constants, "NUM_ROUNDS", 1))

    @property
    def players_per_group(self) -> int | None:
        return getattr(self.constants, "PLAYERS_PER_GROUP", None)

    @property
    def name_in_url(self) -> str:
        return getattr(self.constants, "NAME_IN_URL", None) or self.name

    def hook(self, name: str) -> Callable[..., Any] | None:
        """A module-level function of the app (creating_session, <field>_choices...)."""
        value = getattr(self.module, name, None)
        return value if callable(value) else None

    def fields_of(self, model_cls: type) -> dict[str, Field]:
        """The declared fields of the app's Subsession, Group or Player class."""
        if issubclass(model_cls, BasePlayer):
            return self.fields["player"]
        if issubclass(model_cls, BaseGroup):
            return self.fields["group"]
        return self.fields["subsession"]

    def model_for(self, form_model: str) -> type[Any]:
        """The class named by a page's ``form_model``."""
        if form_model == "player":
            return self.player_cls
        if form_model == "group":
            return self.group_cls
        raise ConfigurationError(f"apps/{self.name}: form_model must be 'player' or 'group'")


@dataclass(frozen=True)
class PageEntry:
    """One page of a session's flattened page sequence."""

    index: int
    app_name: str
    round_number: int
    page_cls: type[Any]

    @property
    def page_name(self) -> str:
        return self.page_cls.__name__

    @property
    def is_wait_page(self) -> bool:
        return bool(getattr(self.page_cls, "is_wait_page", False))


@dataclass
class Project:
    """Everything loaded from the project root."""

    settings: Settings
    apps: dict[str, AppSpec]
    session_configs: dict[str, dict[str, Any]]
    shared_out: types.ModuleType | None
    metadata: sa.MetaData
    _page_sequences: dict[tuple[str, ...], list[PageEntry]] = field(default_factory=dict)

    def session_config(self, name: str) -> dict[str, Any]:
        """The merged config called ``name``; SessionConfigNotFound if there is none."""
        from server.errors import SessionConfigNotFound

        try:
            return self.session_configs[name]
        except KeyError:
            raise SessionConfigNotFound(f"no session config named {name!r}") from None

    def page_sequence(self, app_sequence: list[str] | tuple[str, ...]) -> list[PageEntry]:
        """The flattened pages of a session: apps x rounds x page_sequence, 1-based."""
        key = tuple(app_sequence)
        if key not in self._page_sequences:
            entries: list[PageEntry] = []
            for app_name in key:
                app = self.apps[app_name]
                for round_number in range(1, app.num_rounds + 1):
                    for page_cls in app.page_sequence:
                        entries.append(
                            PageEntry(len(entries) + 1, app_name, round_number, page_cls)
                        )
            self._page_sequences[key] = entries
        return self._page_sequences[key]

    def group_size_multiple(self, app_sequence: list[str]) -> int:
        """The number every session's participant count must be a multiple of."""
        sizes = [self.apps[a].players_per_group or 1 for a in app_sequence]
        return math.lcm(*sizes) if sizes else 1

    @cached_property
    def mock_exogenous_data(self) -> Callable[..., Any] | None:
        func = getattr(self.shared_out, "mock_exogenous_data", None)
        return func if callable(func) else None


def _find_class(module: types.ModuleType, name: str, base: type, app_name: str) -> type[Any]:
    cls = getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigurationError(
            f"apps/{app_name}/__init__.py: must define class {name}({base.__name__})"
        )
    return cls


def _apps_package(root: Path) -> str:
    """A package name unique to this root whose ``__path__`` is ``root/apps``."""
    package = f"grove_apps_{abs(hash(str(root))):x}"
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(root / "apps")]
        sys.modules[package] = module
    return package


def _load_app(root: Path, name: str, metadata: sa.MetaData, mapper: registry) -> AppSpec:
    directory = root / "apps" / name
    if not (directory / "__init__.py").is_file():
        raise ConfigurationError(f"apps/{name}/__init__.py: file not found")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(f"{_apps_package(root)}.{name}")
    except ConfigurationError:
        raise
    except Exception as exc:
        raise ConfigurationError(f"apps/{name}/__init__.py: failed to import: {exc!r}") from exc
    constants = getattr(module, "C", None) or getattr(module, "Constants", None)
    if not isinstance(constants, type):
        raise ConfigurationError(f"apps/{name}/__init__.py: must define class C(BaseConstants)")
    num_rounds = getattr(constants, "NUM_ROUNDS", 1)
    if not isinstance(num_rounds, int) or num_rounds < 1:
        raise ConfigurationError(f"apps/{name}: C.NUM_ROUNDS must be a positive integer")
    ppg = getattr(constants, "PLAYERS_PER_GROUP", None)
    if ppg is not None and (not isinstance(ppg, int) or ppg < 1):
        raise ConfigurationError(f"apps/{name}: C.PLAYERS_PER_GROUP must be None or >= 1")
    classes = (
        _find_class(module, "Subsession", BaseSubsession, name),
        _find_class(module, "Group", BaseGroup, name),
        _find_class(module, "Player", BasePlayer, name),
    )
    fields = {
        "subsession": collect_fields(classes[0], name),
        "group": collect_fields(classes[1], name),
        "player": collect_fields(classes[2], name),
    }
    page_sequence = getattr(module, "page_sequence", None)
    if not isinstance(page_sequence, list | tuple) or not page_sequence:
        raise ConfigurationError(f"apps/{name}/__init__.py: page_sequence must be a non-empty list")
    for page in page_sequence:
        if not (isinstance(page, type) and issubclass(page, Page | WaitPage)):
            raise ConfigurationError(
                f"apps/{name}/__init__.py: page_sequence entry {page!r} is not a Page or WaitPage"
            )
    roles = [
        getattr(constants, attr)
        for attr in sorted(
            (a for a in dir(constants) if a.endswith("_ROLE")),
            key=lambda a: list(vars(constants)).index(a) if a in vars(constants) else 0,
        )
    ]
    tables = build_app_tables(name, metadata, fields)
    map_app_classes(mapper, tables, classes)
    app = AppSpec(
        name=name,
        module=module,
        directory=directory,
        constants=constants,
        subsession_cls=classes[0],
        group_cls=classes[1],
        player_cls=classes[2],
        page_sequence=list(page_sequence),
        fields=fields,
        roles=roles,
    )
    for cls in classes:
        cls._grove_app = app
    return app


def _merge_session_configs(
    module: types.ModuleType, settings: Settings, apps: set[str]
) -> dict[str, dict[str, Any]]:
    configs = getattr(module, "SESSION_CONFIGS", None)
    if not isinstance(configs, list | tuple):
        raise ConfigurationError("session_configs.py: SESSION_CONFIGS must be a list of dicts")
    try:
        defaults = {**BUILTIN_DEFAULTS, **checked_config(settings.session_config_defaults, {})}
    except ConfigValueError as exc:
        raise ConfigurationError(f"settings.py: SESSION_CONFIG_DEFAULTS: {exc}") from None
    merged: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(configs):
        where = f"session_configs.py: SESSION_CONFIGS[{index}]"
        if not isinstance(raw, dict):
            raise ConfigurationError(f"{where} must be a dict")
        config = {"doc": "", **defaults, **raw}
        name = config.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigurationError(f"{where}: 'name' must be an identifier-like string")
        try:
            # Each value of the kind of its default (session_config_values).
            config = checked_config(config, defaults)
        except ConfigValueError as exc:
            raise ConfigurationError(
                f"{where} ({name}): {exc} (the default in SESSION_CONFIG_DEFAULTS or Grove's "
                "own is the kind to follow)"
            ) from None
        if name in merged:
            raise ConfigurationError(f"{where}: duplicate session config name {name!r}")
        sequence = config.get("app_sequence")
        if not isinstance(sequence, list | tuple) or not sequence:
            raise ConfigurationError(f"{where} ({name}): 'app_sequence' must be a non-empty list")
        for app_name in sequence:
            if app_name not in apps:
                raise ConfigurationError(f"{where} ({name}): app {app_name!r} is not in apps/")
        demo = config.get("num_demo_participants", 1)
        if not isinstance(demo, int) or isinstance(demo, bool) or demo < 1:
            raise ConfigurationError(
                f"{where} ({name}): 'num_demo_participants' must be a positive integer"
            )
        if "urn" in config:
            from server.randomization.urn import UrnConfig, UrnConfigError, has_weak_seed

            try:
                UrnConfig.from_dict(config["urn"])
            except UrnConfigError as exc:
                raise ConfigurationError(f"{where} ({name}): {exc}") from exc
            if settings.production and has_weak_seed(config["urn"]):
                logging.getLogger("grove").warning(
                    "%s (%s): urn starting_seed %s is below 2**32: anyone with an API key can "
                    "find it from the assignment log and predict the next assignments. Leave "
                    "starting_seed out for a random 64-bit seed.",
                    where,
                    name,
                    config["urn"]["starting_seed"],
                )
        config["app_sequence"] = list(sequence)
        config.setdefault("display_name", name)
        config["num_demo_participants"] = demo
        merged[name] = config
    return merged


_PROJECT_CACHE: dict[Path, Project] = {}


def load_project(settings: Settings) -> Project:
    """Load (once per process and root) the project's apps and session configs."""
    root = settings.root
    cached = _PROJECT_CACHE.get(root)
    if cached is not None:
        if cached.settings != settings:
            cached = Project(
                settings=settings,
                apps=cached.apps,
                session_configs=cached.session_configs,
                shared_out=cached.shared_out,
                metadata=cached.metadata,
            )
        return cached
    config_module = import_project_file(root, "session_configs.py")
    if config_module is None:
        raise ConfigurationError(f"{root / 'session_configs.py'}: file not found")
    raw_configs = getattr(config_module, "SESSION_CONFIGS", None) or []
    app_names: list[str] = []
    for raw in raw_configs if isinstance(raw_configs, list | tuple) else []:
        for app_name in (raw.get("app_sequence") or []) if isinstance(raw, dict) else []:
            if isinstance(app_name, str) and app_name not in app_names:
                app_names.append(app_name)
    metadata = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    mapper = registry(metadata=metadata)
    apps: dict[str, AppSpec] = {}
    for name in app_names:
        if (root / "apps" / name / "__init__.py").is_file():
            apps[name] = _load_app(root, name, metadata, mapper)
    configs = _merge_session_configs(config_module, settings, set(apps))
    shared_out = import_project_file(root, "shared_out.py")
    for name, config in configs.items():
        if config.get("mock_exogenous_data") and not callable(
            getattr(shared_out, "mock_exogenous_data", None)
        ):
            raise ConfigurationError(
                f"session_configs.py: config {name!r} sets mock_exogenous_data=True but "
                "shared_out.py does not define mock_exogenous_data(session)"
            )
    project = Project(
        settings=settings,
        apps=apps,
        session_configs=configs,
        shared_out=shared_out,
        metadata=metadata,
    )
    _PROJECT_CACHE[root] = project
    return project
