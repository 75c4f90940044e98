"""What each session config is made of, for scripts (the admin API's ``configs/``): its apps
with their rounds, group sizes and pages, the multiple of participants it needs, and the
fields the admin's create form lets one change. Read from the loaded project; no database,
no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.project import Project
from server.session_admin import ConfigField, editable_config_fields
from server.typed_json import plain


@dataclass(frozen=True)
class AppSummary:
    """One app of a config: ``players_per_group`` None means everyone in one group."""

    name: str
    num_rounds: int
    players_per_group: int | None
    pages: list[str]


@dataclass(frozen=True)
class ConfigSummary:
    """A session config as a script sees it. ``multiple_of``: every session's number of
    participants is a multiple of it (the least common multiple of the group sizes);
    ``num_pages``: pages a participant goes through, every round counted."""

    name: str
    display_name: str
    doc: str
    apps: list[AppSummary]
    num_demo_participants: int
    multiple_of: int
    num_pages: int
    fields: list[ConfigField]

    @property
    def text(self) -> str:
        """One line for people: ``trust, 1 round, groups of 2; payment_info, 1 round``."""
        parts = []
        for app in self.apps:
            rounds = f"{app.num_rounds} round{'s' if app.num_rounds != 1 else ''}"
            groups = f", groups of {app.players_per_group}" if app.players_per_group else ""
            parts.append(f"{app.name}, {rounds}{groups}")
        return (
            "; ".join(parts)
            + f". {self.num_pages} pages; participants in multiples of {self.multiple_of}."
        )

    def settings(self) -> dict[str, Any]:
        """The changeable fields' values by name (JSON values)."""
        return {field.name: plain(field.value) for field in self.fields}


def _summary(project: Project, name: str, config: dict[str, Any]) -> ConfigSummary:
    app_sequence = list(config["app_sequence"])
    return ConfigSummary(
        name=name,
        display_name=str(config.get("display_name") or name),
        doc=str(config.get("doc") or ""),
        apps=[
            AppSummary(
                name=app_name,
                num_rounds=project.apps[app_name].num_rounds,
                players_per_group=project.apps[app_name].players_per_group,
                pages=[page.__name__ for page in project.apps[app_name].page_sequence],
            )
            for app_name in app_sequence
        ],
        num_demo_participants=int(config.get("num_demo_participants") or 1),
        multiple_of=project.group_size_multiple(app_sequence),
        num_pages=len(project.page_sequence(app_sequence)),
        fields=editable_config_fields(config),
    )


def config_summaries(project: Project) -> list[ConfigSummary]:
    """Every session config, in SESSION_CONFIGS' order."""
    return [_summary(project, name, config) for name, config in project.session_configs.items()]


def config_summary(project: Project, name: str) -> ConfigSummary:
    """The config called ``name``. Raises SessionConfigNotFound."""
    return _summary(project, name, project.session_config(name))
