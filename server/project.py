"""Loading an oTree project: its apps, its session configs and ``shared_out.py``.

Two layouts load unchanged. oTree's: apps are folders at the project root and
``SESSION_CONFIGS`` is in ``settings.py``. Grove's: apps are folders in ``apps/`` and
``SESSION_CONFIGS`` is in ``session_configs.py``. A project may mix the two kinds of app
folders; the same app name in both places, or ``SESSION_CONFIGS`` in both files, is refused.

As in oTree, an app is imported under its folder's name (``__name__ == "my_app"``), so one app
can ``import other_app``. Loading happens once per project root and process; a mistake in a
project file is a ConfigurationError that names the file (and the key or class).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import logging
import math
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry

from server.config import Settings, import_project_file
from server.currency import configure_currency_from
from server.errors import ConfigurationError
from server.fields import Field
from server.model_bases import BaseConstants, BaseGroup, BasePlayer, BaseSubsession
from server.models import all as _all_tables  # noqa: F401 - registers every table
from server.models.app_tables import build_app_tables, collect_fields, map_app_classes
from server.models.extra_tables import extra_models_of, map_extra_model
from server.page_classes import Page, WaitPage
from server.session_config_values import BUILTIN_DEFAULTS, ConfigValueError, checked_config

RESERVED_CONFIG_KEYS = frozenset({"name", "app_sequence", "display_name", "doc"})
# oTree's names of an app's built-in constants; a ``Constants`` class spells them in lowercase.
BUILTIN_CONSTANTS = ("NAME_IN_URL", "PLAYERS_PER_GROUP", "NUM_ROUNDS")
# Top-level modules an app folder may not be named after: Grove's own and its compatibility
# package (the standard library's and installed packages' names are refused too).
RESERVED_MODULE_NAMES = frozenset({"server", "otree"})


@dataclass
class AppSpec:
    """One app of the project, as loaded from ``<name>/__init__.py`` or
    ``apps/<name>/__init__.py``."""

    name: str
    module: types.ModuleType
    directory: Path
    # The app folder relative to the project root ("my_app" or "apps/my_app"), for messages.
    location: str
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
    def groups_by_arrival(self) -> bool:
        """Is the app's first page a ``group_by_arrival_time`` wait page? Then, as in oTree,
        each round starts with all its players in one group and groups form as they arrive
        (multiplayer_waitpages.rst; oTree 6.0.15 decides by the first page only)."""
        return bool(getattr(self.page_sequence[0], "group_by_arrival_time", False))

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
        raise ConfigurationError(f"{self.location}: form_model must be 'player' or 'group'")


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
    # The apps' tables (and their ExtraModels'); Grove's own are in Base.metadata.
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

    def app_in_url(self, name_in_url: str) -> AppSpec | None:
        """The app whose pages' URLs name it ``name_in_url`` (``C.NAME_IN_URL``), if any."""
        return self._apps_by_url.get(name_in_url)

    @cached_property
    def _apps_by_url(self) -> dict[str, AppSpec]:
        return {app.name_in_url: app for app in reversed(self.apps.values())}

    def group_size_multiple(self, app_sequence: list[str]) -> int:
        """The number every session's participant count must be a multiple of."""
        sizes = [self.apps[a].players_per_group or 1 for a in app_sequence]
        return math.lcm(*sizes) if sizes else 1

    @cached_property
    def mock_exogenous_data(self) -> Callable[..., Any] | None:
        func = getattr(self.shared_out, "mock_exogenous_data", None)
        return func if callable(func) else None


def _find_class(module: types.ModuleType, name: str, base: type, location: str) -> type[Any]:
    cls = getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigurationError(
            f"{location}/__init__.py: must define class {name}({base.__name__})"
        )
    return cls


class _AppFinder(importlib.abc.MetaPathFinder):
    """Imports the loading (or last loaded) project's apps by their folder's name.

    It comes before ``sys.path``, so ``import other_app`` finds the app of this project even
    when another project's root (a test's) is on ``sys.path`` too, and finds an app in
    ``apps/`` (Grove's layout), which is not on ``sys.path``.
    """

    def __init__(self) -> None:
        self.directories: dict[str, Path] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        directory = self.directories.get(fullname)
        if directory is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, directory / "__init__.py", submodule_search_locations=[str(directory)]
        )


_APP_FINDER = _AppFinder()


def _is_inside(module: types.ModuleType, directory: Path) -> bool:
    filename = getattr(module, "__file__", None)
    return isinstance(filename, str) and directory in Path(filename).resolve().parents


def _activate_apps(
    directories: dict[str, Path], modules: dict[str, types.ModuleType] | None
) -> None:
    """Make ``import <app>`` mean this project's app, for every app of the project.

    A module of the same name from another project (tests load several projects into one
    process) leaves ``sys.modules``, with its submodules; that project's ``Project`` keeps its
    module objects. ``modules`` None (a fresh load) clears this project's own entries too, so
    its apps run afresh.
    """
    if _APP_FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _APP_FINDER)
    _APP_FINDER.directories = dict(directories)
    # One pass over sys.modules (thousands of entries), not one per app: every test's app
    # start comes here.
    for key in [k for k in sys.modules if k.partition(".")[0] in directories]:
        directory = directories[key.partition(".")[0]]
        if modules is None or not _is_inside(sys.modules[key], directory):
            del sys.modules[key]
    for name in directories:
        if modules is not None and name in modules:
            sys.modules[name] = modules[name]


@cache
def _installed_top_level_names() -> frozenset[str]:
    return frozenset(importlib.metadata.packages_distributions())


def _importable_outside(name: str, root: Path) -> bool:
    """Whether ``import name`` would find a module anywhere but the project's ``root``.

    Every installed package is found so; asking the finders costs a few directory reads,
    where listing the installed packages' names reads every distribution's files (about
    0.1 s of each command's start-up).
    """
    elsewhere = [entry for entry in sys.path if Path(entry or ".").resolve() != root.resolve()]
    for finder in sys.meta_path:
        if finder is _APP_FINDER or not hasattr(finder, "find_spec"):
            continue
        try:
            path = elsewhere if finder is importlib.machinery.PathFinder else None
            if finder.find_spec(name, path) is not None:
                return True
        except (ImportError, ValueError):
            continue
    return False


def _shadowed_module(name: str, root: Path) -> str | None:
    """What an app folder called ``name`` in ``root`` would hide on import, or None."""
    if name in RESERVED_MODULE_NAMES:
        return f"Grove's own package {name!r}"
    if name in sys.stdlib_module_names:
        return f"Python's standard module {name!r}"
    if _importable_outside(name, root) and name in _installed_top_level_names():
        return f"the installed package {name!r}"
    return None


def _find_app(root: Path, name: str) -> Path | None:
    """The folder of app ``name``: ``<root>/<name>/`` (oTree) or ``<root>/apps/<name>/``
    (Grove), or None when neither has an ``__init__.py``.

    Raises ConfigurationError for an app in both places, one in oTree's old format
    (``models.py`` + ``pages.py``) and a name that would hide another module.
    """
    places = [root / name, root / "apps" / name]
    for directory in places:
        if (directory / "models.py").is_file():
            location = directory.relative_to(root).as_posix()
            has = "models.py + pages.py" if (directory / "pages.py").is_file() else "models.py"
            raise ConfigurationError(
                f"{location}/: this app is in oTree's old format ({has}, methods on self), "
                "which Grove does not run. Convert it to the no-self format, one "
                f"{location}/__init__.py (oTree 5's `otree remove_self` command does it), "
                "then remove models.py and pages.py."
            )
    found = [d for d in places if (d / "__init__.py").is_file()]
    if len(found) > 1:
        raise ConfigurationError(
            f"app {name!r} is in two places, {name}/ and apps/{name}/: keep one of them"
        )
    if not found:
        return None
    shadowed = _shadowed_module(name, root)
    if shadowed is not None:
        raise ConfigurationError(
            f"{found[0].relative_to(root).as_posix()}/: an app is imported under its folder's "
            f"name, and {name!r} would hide {shadowed}: rename the folder (and the app in "
            "SESSION_CONFIGS)"
        )
    return found[0].resolve()


def _normalise_constants(constants: type, location: str) -> None:
    """Give the constants class both spellings of oTree's built-in constants.

    oTree reads ``C.NUM_ROUNDS`` from a class named ``C`` and ``Constants.num_rounds`` from
    the older ``Constants``; Grove reads the capitals, and app code either spelling.
    """
    own = [k for k in constants.__mro__ if k not in (BaseConstants, object)]
    for upper in BUILTIN_CONSTANTS:
        lower = upper.lower()
        value = getattr(constants, upper, None)  # BaseConstants' default
        for klass in own:
            spelled = [vars(klass)[name] for name in (upper, lower) if name in vars(klass)]
            if len(spelled) == 2 and spelled[0] != spelled[1]:
                raise ConfigurationError(
                    f"{location}/__init__.py: {klass.__name__}.{upper} and "
                    f"{klass.__name__}.{lower} differ; keep one"
                )
            if spelled:
                value = spelled[0]
                break
        # type's own __setattr__: a read-only constants class (oTree's are) still gets both.
        type.__setattr__(constants, upper, value)
        type.__setattr__(constants, lower, value)


def _roles(constants: type) -> list[str]:
    """The role names, oTree's way: ``<X>_ROLE`` or ``ROLE_<X>`` (any case), in order."""
    roles = []
    for key, value in vars(constants).items():
        if key.upper().endswith("_ROLE") or key.upper().startswith("ROLE_"):
            roles.append(value)
    return roles


def _load_app(
    root: Path, name: str, directory: Path, metadata: sa.MetaData, mapper: registry
) -> AppSpec:
    location = (
        directory.relative_to(root).as_posix() if root in directory.parents else str(directory)
    )
    try:
        module = importlib.import_module(name)
    except ConfigurationError:
        raise
    except Exception as exc:
        raise ConfigurationError(f"{location}/__init__.py: failed to import: {exc!r}") from exc
    # oTree takes Constants when an app has both (an oTree 5 app may alias C = Constants).
    constants = getattr(module, "Constants", None) or getattr(module, "C", None)
    if not isinstance(constants, type):
        raise ConfigurationError(f"{location}/__init__.py: must define class C(BaseConstants)")
    _normalise_constants(constants, location)
    num_rounds = getattr(constants, "NUM_ROUNDS")  # noqa: B009 - set just above
    if not isinstance(num_rounds, int) or num_rounds < 1:
        raise ConfigurationError(
            f"{location}: {constants.__name__}.NUM_ROUNDS must be a positive integer"
        )
    ppg = getattr(constants, "PLAYERS_PER_GROUP")  # noqa: B009
    if ppg is not None and (not isinstance(ppg, int) or ppg < 1):
        raise ConfigurationError(
            f"{location}: {constants.__name__}.PLAYERS_PER_GROUP must be None or >= 1"
        )
    classes = (
        _find_class(module, "Subsession", BaseSubsession, location),
        _find_class(module, "Group", BaseGroup, location),
        _find_class(module, "Player", BasePlayer, location),
    )
    fields = {
        "subsession": collect_fields(classes[0], name),
        "group": collect_fields(classes[1], name),
        "player": collect_fields(classes[2], name),
    }
    page_sequence = getattr(module, "page_sequence", None)
    if not isinstance(page_sequence, list | tuple) or not page_sequence:
        raise ConfigurationError(f"{location}/__init__.py: page_sequence must be a non-empty list")
    for page in page_sequence:
        if not (isinstance(page, type) and issubclass(page, Page | WaitPage)):
            raise ConfigurationError(
                f"{location}/__init__.py: page_sequence entry {page!r} is not a Page or WaitPage"
            )
    roles = _roles(constants)
    if not all(isinstance(role, str) for role in roles):
        raise ConfigurationError(
            f"{location}/__init__.py: a constant named <x>_ROLE must be a string (the role's name)"
        )
    tables = build_app_tables(name, metadata, fields)
    map_app_classes(mapper, tables, classes)
    for extra_model in extra_models_of(module):
        map_extra_model(name, extra_model, metadata, mapper)
    app = AppSpec(
        name=name,
        module=module,
        directory=directory,
        location=location,
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
    module: types.ModuleType, filename: str, settings: Settings, apps: set[str]
) -> dict[str, dict[str, Any]]:
    configs = getattr(module, "SESSION_CONFIGS", None)
    if not isinstance(configs, list | tuple):
        raise ConfigurationError(f"{filename}: SESSION_CONFIGS must be a list of dicts")
    try:
        defaults = {**BUILTIN_DEFAULTS, **checked_config(settings.session_config_defaults, {})}
    except ConfigValueError as exc:
        raise ConfigurationError(f"settings.py: SESSION_CONFIG_DEFAULTS: {exc}") from None
    merged: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(configs):
        where = f"{filename}: SESSION_CONFIGS[{index}]"
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
                raise ConfigurationError(
                    f"{where} ({name}): app {app_name!r} not found: there is no "
                    f"{app_name}/__init__.py (oTree's layout) or apps/{app_name}/__init__.py "
                    f"(Grove's) in {settings.root}"
                )
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


def _session_configs_file(root: Path) -> tuple[types.ModuleType, str]:
    """The module holding SESSION_CONFIGS and its file name: ``session_configs.py`` (Grove's
    layout) or else ``settings.py`` (oTree's); ConfigurationError when neither or both do."""
    configs_file = import_project_file(root, "session_configs.py")
    settings_file = import_project_file(root, "settings.py")
    in_settings = settings_file is not None and hasattr(settings_file, "SESSION_CONFIGS")
    # settings.py that imports the list from session_configs.py (``from session_configs
    # import SESSION_CONFIGS``, as an oTree project may) defines it once, not twice.
    in_settings_only_as_imported = getattr(settings_file, "SESSION_CONFIGS", None) == getattr(
        configs_file, "SESSION_CONFIGS", None
    )
    if configs_file is not None and in_settings and not in_settings_only_as_imported:
        raise ConfigurationError(
            f"{root}: SESSION_CONFIGS is defined in both settings.py and session_configs.py; "
            "keep one (oTree's layout has it in settings.py)"
        )
    if configs_file is not None:
        return configs_file, "session_configs.py"
    if settings_file is not None and in_settings:
        return settings_file, "settings.py"
    raise ConfigurationError(
        f"{root}: no SESSION_CONFIGS: define it in settings.py (oTree's layout) or in "
        "session_configs.py"
    )


def load_project(settings: Settings) -> Project:
    """Load (once per process and root) the project's apps and session configs.

    Each call makes ``import <app>`` mean this project's apps (see _activate_apps). The
    currency settings are applied first: an app's module-level amounts (``C.BONUS =
    cu(0.75)``) round as the project's currency does when the app is imported, as in oTree,
    whose settings are read before any app.
    """
    configure_currency_from(settings)
    root = settings.root
    cached = _PROJECT_CACHE.get(root)
    if cached is not None:
        _activate_apps(
            {name: app.directory for name, app in cached.apps.items()},
            {name: app.module for name, app in cached.apps.items()},
        )
        if cached.settings != settings:
            cached = Project(
                settings=settings,
                apps=cached.apps,
                session_configs=cached.session_configs,
                shared_out=cached.shared_out,
                metadata=cached.metadata,
            )
        return cached
    config_module, config_filename = _session_configs_file(root)
    raw_configs = getattr(config_module, "SESSION_CONFIGS", None) or []
    app_names: list[str] = []
    for raw in raw_configs if isinstance(raw_configs, list | tuple) else []:
        for app_name in (raw.get("app_sequence") or []) if isinstance(raw, dict) else []:
            if isinstance(app_name, str) and app_name not in app_names:
                app_names.append(app_name)
    directories: dict[str, Path] = {}
    for name in app_names:
        directory = _find_app(root, name) if name.isidentifier() else None
        if directory is not None:
            directories[name] = directory
    # Helper modules at the root import as in oTree (which runs from the root): reading
    # the configs' file put the root on sys.path (import_project_file).
    _activate_apps(directories, None)
    # The apps' tables only: theirs refer to Grove's own (Base.metadata) by column, so Grove's
    # 21 tables are not copied into each project's MetaData (about 8 ms a start).
    metadata = sa.MetaData()
    mapper = registry(metadata=metadata)
    apps: dict[str, AppSpec] = {}
    for name, directory in directories.items():
        apps[name] = _load_app(root, name, directory, metadata, mapper)
    configs = _merge_session_configs(config_module, config_filename, settings, set(apps))
    shared_out = import_project_file(root, "shared_out.py")
    for name, config in configs.items():
        if config.get("mock_exogenous_data") and not callable(
            getattr(shared_out, "mock_exogenous_data", None)
        ):
            raise ConfigurationError(
                f"{config_filename}: config {name!r} sets mock_exogenous_data=True but "
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
