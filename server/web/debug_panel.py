"""The development server's debug panel under a participant's page (oTree's devserver shows
one outside production): who the participant is, where they are, their group and role, and
what the page's ``vars_for_template`` returned. Shown only when ``Settings.debug_info`` is on
(``otree devserver`` sets ``GROVE_DEBUG_INFO``; production never shows it)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from server.project import PageEntry

MAX_VALUE_CHARS = 300


def _cell(value: Any) -> Markup:
    return escape("" if value is None else value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def debug_panel(entry: PageEntry, context: dict[str, Any]) -> Markup:
    """The panel's HTML (every value escaped) for the page ``entry`` rendered with
    ``context`` (the page's template context: ``player``, ``participant``, ``session``,
    and ``grove_debug_vars``, the page's ``vars_for_template``)."""
    player = context.get("player")
    participant = context.get("participant")
    session = context.get("session")
    group = getattr(player, "group", None)
    rows = [
        ("Participant", f"P{getattr(participant, 'id_in_session', '')}"),
        ("Participant code", getattr(participant, "code", "")),
        ("Participant label", getattr(participant, "label", "")),
        ("Session code", getattr(session, "code", "")),
        ("App", entry.app_name),
        ("Round", entry.round_number),
        ("Page", entry.page_name),
        ("ID in group", getattr(player, "id_in_group", "")),
        ("Group", getattr(group, "id_in_subsession", "")),
        ("Role", getattr(player, "role", "")),
    ]
    basic = "".join(
        f'<tr><th scope="row">{_cell(name)}</th><td>{_cell(value)}</td></tr>'
        for name, value in rows
    )
    page_vars = context.get("grove_debug_vars") or {}
    if page_vars:
        shown_vars = "".join(
            f"<tr><td>{_cell(name)}</td><td>{_cell(_shown(value))}</td></tr>"
            for name, value in page_vars.items()
        )
    else:
        shown_vars = '<tr><td colspan="2">(none)</td></tr>'
    return Markup(
        '<aside id="grove-debug-info" class="grove-debug-info container my-4 small text-muted">'
        "<details open><summary>Debug info (development server only)</summary>"
        '<table class="table table-sm w-auto">'
        f"<tbody>{basic}</tbody></table>"
        '<p class="mb-1">vars_for_template</p>'
        '<table class="table table-sm w-auto">'
        f"<tbody>{shown_vars}</tbody></table>"
        "</details></aside>"
    )


def with_debug_panel(html: str, entry: PageEntry, context: dict[str, Any]) -> str:
    """``html`` with the debug panel just before its last ``</body>`` (at the end if none)."""
    panel = str(debug_panel(entry, context))
    at = html.lower().rfind("</body>")
    if at == -1:
        return html + panel
    return html[:at] + panel + html[at:]
