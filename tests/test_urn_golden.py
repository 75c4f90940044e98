"""The pure urn algorithm reproduces the reference package's golden sequences bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.randomization.urn import UrnConfig, replay

GOLDEN = Path(__file__).resolve().parents[2] / "shared" / "urn" / "golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*.json")) if GOLDEN.is_dir() else []


def load_golden(path: Path) -> dict:
    """One golden study run."""
    return json.loads(path.read_text())


def golden_participants(case: dict) -> list[tuple[str, dict]]:
    """The (id, levels) pairs of a golden case, in arrival order."""
    return [(p["id"], p["factors"]) for p in case["participants"]]


@pytest.mark.skipif(not GOLDEN_FILES, reason="shared/urn/golden is not beside the repository")
@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_sequence(path):
    case = load_golden(path)
    config = UrnConfig.from_dict(case["config"])
    results = replay(config, golden_participants(case))
    assert [r.treatment for r in results] == case["expected_trt"]
    assert [r.rng_state_after for r in results] == case["expected_bg_state_after"]
    for result, trace in zip(results, case.get("trace", []), strict=False):
        assert list(result.candidates) == trace["candidates"]
        # The trace lists urns by factor name; the d values must match to the last bit.
        assert sorted([f, level, d.hex()] for f, level, d in result.urn_d) == sorted(
            [f, level, float.fromhex(h).hex()] for f, level, h in trace["urn_d"]
        )
