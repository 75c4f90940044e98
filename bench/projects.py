"""The benchmark's two projects, built from one source: Grove's sample apps plus the two
benchmark apps under ``bench/apps``, with the same session configs, rooms and settings.

The oTree copy differs only where oTree needs it: the import line reads ``otree.api``, the
settings list the session configs, and the ``randomized_trial`` config (urn randomization,
which oTree lacks) is left out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_APPS = Path(__file__).resolve().parent / "apps"

# The configs both servers can run, and those the benchmark adds.
SHARED_CONFIGS = ["survey", "public_goods", "trust", "prisoner"]
BENCH_ROOM = "bench_room"

_BENCH_CONFIGS = """
SESSION_CONFIGS += [
    dict(name="bench_form", display_name="Benchmark: one-field page",
         app_sequence=["bench_form"], num_demo_participants=1),
    dict(name="bench_wait", display_name="Benchmark: wait page",
         app_sequence=["bench_wait"], num_demo_participants=3),
    dict(name="bench_live", display_name="Benchmark: live page",
         app_sequence=["bench_live"], num_demo_participants=4),
    dict(name="bench_bots", display_name="Benchmark: bots, 10 rounds of 2 pages",
         app_sequence=["bench_bots"], num_demo_participants=1),
]
"""

_SETTINGS = f"""
from os import environ

SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.00, participation_fee=0.00,
                               doc="")
PARTICIPANT_FIELDS = ["treatment"]
SESSION_FIELDS = []
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = environ.get("OTREE_ADMIN_PASSWORD", "")
SECRET_KEY = "benchmark-secret-key-long-enough-for-production"
DEMO_PAGE_INTRO_HTML = ""
ROOMS = [dict(name="{BENCH_ROOM}", display_name="Benchmark room")]
"""


def _copy_apps(destination: Path, root: Path = REPO_ROOT) -> None:
    for source_root in (root / "apps", BENCH_APPS):
        for app in sorted(source_root.iterdir()):
            if (app / "__init__.py").exists():
                shutil.copytree(
                    app, destination / app.name, ignore=shutil.ignore_patterns("__pycache__")
                )


def _only(configs: list[str] | None) -> str:
    if configs is None:
        return ""
    return f"\nSESSION_CONFIGS = [c for c in SESSION_CONFIGS if c['name'] in {configs!r}]\n"


def build_grove_project(
    destination: Path, configs: list[str] | None = None, root: Path = REPO_ROOT
) -> Path:
    """Grove's project root for the benchmark: ``apps/``, configs, settings, shared_out,
    taken from the source tree ``root`` (another revision's export: ``bench/ab.py``).

    ``configs`` keeps only those session configs (the bot comparison runs the shared ones).
    """
    destination.mkdir(parents=True, exist_ok=True)
    (destination / "apps").mkdir()
    _copy_apps(destination / "apps", root)
    (destination / "session_configs.py").write_text(
        (root / "session_configs.py").read_text() + _BENCH_CONFIGS + _only(configs)
    )
    (destination / "settings.py").write_text(_SETTINGS)
    shutil.copy(root / "shared_out.py", destination / "shared_out.py")
    (destination / "rooms").mkdir()
    return destination


def build_otree_project(destination: Path, configs: list[str] | None = None) -> Path:
    """The same apps and settings as an oTree project (apps at the top level)."""
    destination.mkdir(parents=True, exist_ok=True)
    _copy_apps(destination)
    shutil.rmtree(destination / "trial")
    for module in destination.glob("*/*.py"):
        text = module.read_text().replace("from server.api import", "from otree.api import")
        module.write_text(text)
    (destination / "session_configs.py").write_text(
        (REPO_ROOT / "session_configs.py").read_text()
        + "\nSESSION_CONFIGS = [c for c in SESSION_CONFIGS "
        "if c['name'] != 'randomized_trial']\n" + _BENCH_CONFIGS + _only(configs)
    )
    (destination / "settings.py").write_text(
        "from session_configs import SESSION_CONFIGS\n" + _SETTINGS
    )
    shutil.copy(REPO_ROOT / "shared_out.py", destination / "shared_out.py")
    (destination / "_static").mkdir()
    (destination / "_templates").mkdir()
    (destination / "requirements.txt").write_text("otree\n")
    return destination
