"""Settings: the project's ``settings.py`` plus the environment, validated once.

Nothing else in Grove reads ``os.environ``: the CLI calls :func:`load_settings` and hands the
frozen :class:`Settings` to ``create_app``. Tests build ``Settings(...)`` directly.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from server.currency import default_real_world_places
from server.db import DEFAULT_LOCK_TIMEOUT_SECONDS
from server.errors import ConfigurationError
from server.secret_key import (
    check_production_rest_key,
    check_production_secret_key,
    development_secret_key,
    is_placeholder,
)

AUTH_LEVELS = ("DEMO", "STUDY")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_LIVE_RETENTION_SECONDS = 60.0
# REDCap's default: 600 API requests per key and minute.
DEFAULT_PRODUCTION_API_RATE_LIMIT = 600


@dataclass(frozen=True)
class Settings:
    """Everything Grove needs to know about one deployment of one project."""

    root: Path
    database_url: str = ""
    # Empty: a development server signs with a random key of this process (load_settings
    # gives a per-install one instead); production refuses to start (server/secret_key.py).
    secret_key: str = ""
    admin_username: str = "admin"
    admin_password: str = ""
    auth_level: str | None = None
    rest_key: str | None = None
    production: bool = False
    # The debug panel under participants' pages (oTree's devserver shows one): on only when
    # GROVE_DEBUG_INFO is set (`otree devserver` sets it) and never in production.
    debug_info: bool = False
    language_code: str = "en"
    real_world_currency_code: str = "USD"
    use_points: bool = True
    # oTree's BOTS_CHECK_HTML: the default of a bot submission's check_html.
    bots_check_html: bool = True
    points_decimal_places: int = 0
    real_world_currency_decimal_places: int = 2
    thousand_separator: str = ""
    points_custom_name: str | None = None
    participant_fields: tuple[str, ...] = ()
    session_fields: tuple[str, ...] = ()
    session_config_defaults: Mapping[str, Any] = field(default_factory=dict)
    rooms: tuple[Mapping[str, Any], ...] = ()
    # Urn studies of trials run elsewhere (settings.URN_STUDIES: name -> a config's urn keys;
    # server/randomization/studies.py).
    urn_studies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    demo_page_intro_html: str = ""
    # The demo page's heading and title (oTree's DEMO_PAGE_TITLE).
    demo_page_title: str = "Demo"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout_poll_seconds: float = 1.0
    # Longest wait for a database write lock before a request fails with 503 (seconds).
    db_lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    # How long a live page's undelivered messages wait for it to reconnect (seconds;
    # GROVE_LIVE_RETENTION_SECONDS).
    live_retention_seconds: float = DEFAULT_LIVE_RETENTION_SECONDS
    # Host names the server answers to (GROVE_ALLOWED_HOSTS or settings.ALLOWED_HOSTS; "*."
    # prefixes allowed); empty: any host (server/http/security_headers.py).
    allowed_hosts: tuple[str, ...] = ()
    # The admin cookie's Secure flag: None follows each request's scheme (https behind a proxy
    # only as uvicorn's --forwarded-allow-ips trusts it); GROVE_SECURE_COOKIES=1/0 fixes it.
    secure_cookies: bool | None = None
    # API requests a key may make per minute, shared by every worker (server/rate_limit.py;
    # GROVE_API_RATE_LIMIT); 0: no limit (the development server's default).
    api_rate_limit_per_minute: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).resolve())
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.root / 'db.sqlite3'}")
        if self.production:
            check_production_secret_key(self.secret_key)
            check_production_rest_key(self.rest_key)
        elif is_placeholder(self.secret_key):
            object.__setattr__(self, "secret_key", secrets.token_urlsafe(48))
        if self.auth_level is not None and self.auth_level not in AUTH_LEVELS:
            raise ConfigurationError(
                f"OTREE_AUTH_LEVEL must be one of {', '.join(AUTH_LEVELS)} or unset, "
                f"not {self.auth_level!r}"
            )

    @property
    def admin_login_required(self) -> bool:
        """Admin pages need a login whenever a password is set or the server is public."""
        return bool(self.admin_password) or self.production or self.auth_level is not None

    @property
    def api_key_required(self) -> bool:
        """The REST API needs a key when OTREE_REST_KEY is set, at any auth level (oTree's
        rule), and always in production (Grove's; per-user keys also require one:
        server/rest/auth.py)."""
        return bool(self.rest_key) or self.auth_level is not None or self.production

    @property
    def demo_open(self) -> bool:
        """The /demo pages are open except at auth level STUDY (oTree's rule)."""
        return self.auth_level != "STUDY"

    def with_changes(self, **changes: Any) -> Settings:
        """Return a copy with some fields replaced (used by tests and the CLI)."""
        return replace(self, **changes)


def _import_file(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigurationError(f"{path}: failed to import: {exc!r}") from exc
    return module


def import_project_file(root: Path, filename: str) -> ModuleType | None:
    """Import ``root/filename`` under a name unique to this project, or None if missing.

    The project's folder is put on ``sys.path`` first: oTree runs from it, so its
    ``settings.py`` (and an app) may import a helper module beside it (``from lab_rooms
    import ROOMS``), which the installed ``otree`` command would not find otherwise.
    """
    path = Path(root) / filename
    if not path.is_file():
        return None
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module_name = f"grove_project_{abs(hash(str(Path(root).resolve()))):x}_{path.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    module = _import_file(path, module_name)
    sys.modules[module_name] = module
    return module


def _typed(module: ModuleType, name: str, expected: type | tuple[type, ...], default: Any) -> Any:
    value = getattr(module, name, default)
    if not isinstance(value, expected):
        names = (
            expected.__name__
            if isinstance(expected, type)
            else " or ".join(t.__name__ for t in expected)
        )
        raise ConfigurationError(
            f"settings.py: {name} must be a {names}, not {type(value).__name__}"
        )
    return value


def _env_bool(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _allowed_hosts(module: ModuleType, environ: Mapping[str, str]) -> tuple[str, ...]:
    from_env = environ.get("GROVE_ALLOWED_HOSTS", "").strip()
    if from_env:
        return tuple(host.strip() for host in from_env.split(",") if host.strip())
    hosts = _typed(module, "ALLOWED_HOSTS", (list, tuple), [])
    if not all(isinstance(host, str) and host for host in hosts):
        raise ConfigurationError("settings.py: ALLOWED_HOSTS must be a list of host names")
    return tuple(hosts)


def _secure_cookies(environ: Mapping[str, str]) -> bool | None:
    value = environ.get("GROVE_SECURE_COOKIES", "").strip()
    return None if value == "" else _env_bool(environ, "GROVE_SECURE_COOKIES")


def _positive_seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds from the environment: finite and above 0, else ConfigurationError."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise ConfigurationError(f"{name} must be a number of seconds above 0, not {text!r}")
    return value


def _api_rate_limit(environ: Mapping[str, str], production: bool) -> int:
    """GROVE_API_RATE_LIMIT (requests per key and minute; 0: none), else
    DEFAULT_PRODUCTION_API_RATE_LIMIT in production and none on a development server."""
    text = environ.get("GROVE_API_RATE_LIMIT", "").strip()
    if not text:
        return DEFAULT_PRODUCTION_API_RATE_LIMIT if production else 0
    if not (text.isascii() and text.isdigit()):
        raise ConfigurationError(
            f"GROVE_API_RATE_LIMIT must be a whole number of requests per minute (0: no "
            f"limit), not {text!r}"
        )
    return int(text)


def _urn_studies(module: ModuleType) -> dict[str, dict[str, Any]]:
    from server.randomization.studies import check_defined_studies

    try:
        return check_defined_studies(getattr(module, "URN_STUDIES", {}))
    except ValueError as exc:
        raise ConfigurationError(f"settings.py: {exc}") from None


def load_settings(root: Path, environ: Mapping[str, str]) -> Settings:
    """Read ``root/settings.py`` and the oTree environment variables into a Settings.

    Raises ConfigurationError naming the file and key when something is wrong.
    """
    module = import_project_file(root, "settings.py")
    if module is None:
        raise ConfigurationError(
            f"{Path(root) / 'settings.py'}: file not found. Run the command from your "
            "project's folder, the one with settings.py"
        )
    rooms = _typed(module, "ROOMS", (list, tuple), [])
    for index, room in enumerate(rooms):
        if not isinstance(room, dict):
            raise ConfigurationError(f"settings.py: ROOMS[{index}] must be a dict")
    auth_level = environ.get("OTREE_AUTH_LEVEL") or getattr(module, "AUTH_LEVEL", None) or None
    try:
        max_body = int(environ.get("GROVE_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    except ValueError as exc:
        raise ConfigurationError("GROVE_MAX_BODY_BYTES must be an integer") from exc
    lock_timeout = _positive_seconds(environ, "GROVE_DB_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT_SECONDS)
    live_retention = _positive_seconds(
        environ, "GROVE_LIVE_RETENTION_SECONDS", DEFAULT_LIVE_RETENTION_SECONDS
    )
    currency_code = _typed(module, "REAL_WORLD_CURRENCY_CODE", str, "USD")
    production = _env_bool(environ, "OTREE_PRODUCTION")
    rate_limit = _api_rate_limit(environ, production)
    secret_key = environ.get("OTREE_SECRET_KEY") or _typed(module, "SECRET_KEY", str, "")
    if not production and is_placeholder(secret_key):
        secret_key = development_secret_key(Path(root))
    return Settings(
        root=Path(root),
        database_url=environ.get("DATABASE_URL", ""),
        secret_key=secret_key,
        admin_username=_typed(module, "ADMIN_USERNAME", str, "admin"),
        admin_password=environ.get("OTREE_ADMIN_PASSWORD")
        or _typed(module, "ADMIN_PASSWORD", (str, type(None)), "")
        or "",
        auth_level=auth_level.upper() if isinstance(auth_level, str) else None,
        rest_key=environ.get("OTREE_REST_KEY") or None,
        production=production,
        debug_info=_env_bool(environ, "GROVE_DEBUG_INFO") and not production,
        api_rate_limit_per_minute=rate_limit,
        language_code=_typed(module, "LANGUAGE_CODE", str, "en"),
        real_world_currency_code=currency_code,
        use_points=_typed(module, "USE_POINTS", bool, True),
        bots_check_html=bool(getattr(module, "BOTS_CHECK_HTML", True)),
        points_decimal_places=_typed(module, "POINTS_DECIMAL_PLACES", int, 0),
        # oTree's default: 0 places for JPY, KRW, HUF, IRR, COP, VND and IDR, else 2.
        real_world_currency_decimal_places=_typed(
            module,
            "REAL_WORLD_CURRENCY_DECIMAL_PLACES",
            int,
            default_real_world_places(currency_code),
        ),
        thousand_separator=_typed(module, "THOUSAND_SEPARATOR", str, ""),
        points_custom_name=_typed(module, "POINTS_CUSTOM_NAME", (str, type(None)), None) or None,
        participant_fields=tuple(_typed(module, "PARTICIPANT_FIELDS", (list, tuple), [])),
        session_fields=tuple(_typed(module, "SESSION_FIELDS", (list, tuple), [])),
        session_config_defaults=dict(_typed(module, "SESSION_CONFIG_DEFAULTS", dict, {})),
        rooms=tuple(rooms),
        urn_studies=_urn_studies(module),
        demo_page_intro_html=_typed(module, "DEMO_PAGE_INTRO_HTML", str, ""),
        demo_page_title=_typed(module, "DEMO_PAGE_TITLE", str, "Demo") or "Demo",
        max_body_bytes=max_body,
        db_lock_timeout_seconds=lock_timeout,
        live_retention_seconds=live_retention,
        allowed_hosts=_allowed_hosts(module, environ),
        secure_cookies=_secure_cookies(environ),
    )
