"""The tabs of a session's admin page, in order: a list other areas extend with their own tab
(Monitor, Data, Payments, Report), each a URL with the session's code in it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SessionTab:
    """One tab: its title and its URL pattern (``{code}`` is the session's code)."""

    title: str
    path: str

    def url(self, code: str) -> str:
        """This tab's URL for the session ``code``."""
        return self.path.format(code=code)


TABS: list[SessionTab] = [
    SessionTab("Links", "/SessionStartLinks/{code}"),
    SessionTab("Monitor", "/SessionMonitor/{code}"),
    SessionTab("Data", "/SessionData/{code}"),
    SessionTab("Payments", "/SessionPayments/{code}"),
    SessionTab("Report", "/SessionReport/{code}"),
    SessionTab("Log", "/SessionLog/{code}"),
]


def tab_bar(code: str, current_path: str) -> list[dict[str, object]]:
    """The tab bar of session ``code`` as the layout shows it: title, url, active."""
    return [
        {"title": tab.title, "url": tab.url(code), "active": tab.url(code) == current_path}
        for tab in TABS
    ]
