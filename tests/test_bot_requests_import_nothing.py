"""A bot run's requests do not search ``sys.path`` for a module that is not installed
(issue 20): httpx2's ASGI transport asks ``import sniffio`` at every request to tell trio from
asyncio, and without sniffio each failed import searched every folder of ``sys.path`` again."""

from __future__ import annotations

import importlib.machinery
from typing import Any

from server.bots.runner import run_bots
from server.config import load_settings
from tests.conftest import REPO_ROOT


def test_a_bot_run_looks_for_a_missing_module_at_most_once(monkeypatch):
    searched: list[str] = []
    find_spec = importlib.machinery.PathFinder.find_spec

    def counting(name: str, path: Any = None, target: Any = None) -> Any:
        searched.append(name)
        return find_spec(name, path, target)

    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", counting)
    results = run_bots(load_settings(REPO_ROOT, {}), "survey", 2)
    assert results, results
    assert all(result.ok for result in results), results
    assert sum(result.pages for result in results) >= 4
    assert searched.count("sniffio") <= 1, searched.count("sniffio")
