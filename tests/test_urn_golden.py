"""The pure urn algorithm reproduces the reference package's golden sequences bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.randomization.urn import UrnConfig, replay

# The reference package's sequences, kept in the repository as test data (a copy of
# ../shared/urn/golden, which a clean clone may not have beside it).
GOLDEN = Path(__file__).resolve().parent / "data" / "urn_golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*.json"))
SHARED_GOLDEN = Path(__file__).resolve().parents[2] / "shared" / "urn" / "golden"


def load_golden(path: Path) -> dict:
    """One golden study run."""
    return json.loads(path.read_text())


def golden_participants(case: dict) -> list[tuple[str, dict]]:
    """The (id, levels) pairs of a golden case, in arrival order."""
    return [(p["id"], p["factors"]) for p in case["participants"]]


def test_the_golden_sequences_are_in_the_repository():
    assert [p.name for p in GOLDEN_FILES] == [
        "g1_2trt_1f_chisquare_w1a0b1.json",
        "g2_3trt_2f_range_w1a0b1.json",
        "g3_3trt_3f_chisquare_w2a1b3.json",
        "g5_4trt_2f_variance_w1a0b1.json",
        "g7_authors2021_chisquare_13f_3trt.json",
    ]


@pytest.mark.skipif(not SHARED_GOLDEN.is_dir(), reason="no ../shared/urn/golden to compare with")
def test_the_repository_copy_equals_shared_golden():
    shared = sorted(SHARED_GOLDEN.glob("*.json"))
    assert [p.name for p in shared] == [p.name for p in GOLDEN_FILES]
    for original in shared:
        assert (GOLDEN / original.name).read_bytes() == original.read_bytes(), original.name


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
