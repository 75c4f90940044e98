"""A live_method given by name (oTree 5, oTree Studio): a Player method of that name, else a
function of the app's module; which async generator methods make a project's live messages
keep one session across their steps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from server.live_pages import LiveMethodError, _has_async_live_methods, live_method_of
from server.project import PageEntry


class Player:
    def on_player(self, data: Any) -> Any:
        return {0: ("player", data)}

    async def streams(self, data: Any) -> Any:
        yield {0: data}


def in_module(player: Any, data: Any) -> Any:
    return {0: ("module", data)}


def _project(*pages: type) -> Any:
    hooks = {"in_module": in_module}
    app = SimpleNamespace(
        player_cls=Player, hook=hooks.get, page_sequence=list(pages), location="apps/a"
    )
    return SimpleNamespace(apps={"a": app})


def _page(live_method: Any) -> type:
    return type("Live", (), {"live_method": live_method})


def _entry(page: type) -> PageEntry:
    return PageEntry(1, "a", 1, page)


def test_a_name_is_a_player_method_first_then_a_module_function() -> None:
    by_player, by_module = _page("on_player"), _page("in_module")
    project = _project(by_player, by_module)
    assert live_method_of(project, _entry(by_player))(Player(), 1) == {0: ("player", 1)}
    assert live_method_of(project, _entry(by_module))(Player(), 2) == {0: ("module", 2)}
    with pytest.raises(LiveMethodError, match="neither a method of Player"):
        live_method_of(project, _entry(_page("missing")))


def test_async_generator_live_methods_are_found_by_name_too() -> None:
    assert not _has_async_live_methods(_project(_page("on_player"), _page("in_module")))
    assert _has_async_live_methods(_project(_page("on_player"), _page("streams")))
