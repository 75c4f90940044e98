"""tests/thorough.py names tests by node id: a renamed or deleted test must not leave a name
behind that marks nothing (its replacement would silently stay in the fast subset)."""

from __future__ import annotations

import importlib

from tests.thorough import SLOW_FUNCTIONS


def test_every_slow_function_named_is_a_test() -> None:
    missing = []
    for node_id in sorted(SLOW_FUNCTIONS):
        path, *names = node_id.split("::")
        target: object = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        for name in names:
            target = getattr(target, name, None)
        if not callable(target) or not names[-1].startswith("test"):
            missing.append(node_id)
    assert missing == []
