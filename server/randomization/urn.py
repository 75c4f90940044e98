"""The urn algorithm as a pure function: (config, counts, RNG state, levels) -> assignment.

No database, no I/O. It reproduces the reference package ``urand`` bit for bit, including
the floating-point order of the imbalance measures (which decides ties) and numpy's PCG64
state chain (see shared/urn/golden/README.md).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

IMBALANCE_MEASURES = ("chisquare", "range", "variance")
# A seed below this can be found by trying them all against the public assignment log, after
# which every next assignment is predictable (server/randomization/service.py draws 64 bits).
WEAK_SEED_LIMIT = 2**32
URN_SELECTIONS = ("method1",)

Counts = dict[tuple[str, str], list[int]]
RngState = dict[str, Any]


class UrnConfigError(ValueError):
    """The urn configuration is invalid; the message names the key."""


class InvalidLevels(ValueError):
    """A participant's factor levels do not fit the configuration."""

    def __init__(self, message: str, factor: str | None = None) -> None:
        super().__init__(message)
        self.factor = factor


def _number(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UrnConfigError(f"urn {key} must be a finite number, not {value!r}")
    if value < 0:
        raise UrnConfigError(f"urn {key} must not be negative, not {value!r}")
    return value


@dataclass(frozen=True)
class UrnConfig:
    """A validated urn configuration."""

    treatments: tuple[str, ...]
    factors: dict[str, tuple[str, ...]]
    D: str = "chisquare"
    alpha: float = 0
    beta: float = 1
    w: float = 1
    starting_seed: int = 0
    urn_selection: str = "method1"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> UrnConfig:
        """Validate a config dict (as in a session config's ``urn=dict(...)``)."""
        if not isinstance(raw, Mapping):
            raise UrnConfigError("urn configuration must be a dict")
        known = {
            "treatments",
            "factors",
            "D",
            "alpha",
            "beta",
            "w",
            "starting_seed",
            "urn_selection",
            "study",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            raise UrnConfigError(f"urn configuration has unknown key(s): {', '.join(unknown)}")
        treatments = raw.get("treatments")
        if not isinstance(treatments, list | tuple) or len(treatments) < 2:
            raise UrnConfigError("urn treatments must be a list of at least 2 names")
        if not all(isinstance(t, str) and t for t in treatments):
            raise UrnConfigError("urn treatments must be non-empty strings")
        if len(set(treatments)) != len(treatments):
            raise UrnConfigError("urn treatments must be distinct")
        factors = raw.get("factors")
        if not isinstance(factors, Mapping) or not factors:
            raise UrnConfigError("urn factors must be a non-empty dict of factor -> levels")
        clean_factors: dict[str, tuple[str, ...]] = {}
        for factor, levels in factors.items():
            if not isinstance(factor, str) or not factor:
                raise UrnConfigError("urn factor names must be non-empty strings")
            if not isinstance(levels, list | tuple) or not levels:
                raise UrnConfigError(f"urn factor {factor!r} needs a non-empty list of levels")
            if not all(isinstance(level, str) and level for level in levels):
                raise UrnConfigError(f"urn factor {factor!r}: levels must be non-empty strings")
            if len(set(levels)) != len(levels):
                raise UrnConfigError(f"urn factor {factor!r}: levels must be distinct")
            clean_factors[factor] = tuple(levels)
        measure = raw.get("D", "chisquare")
        if measure not in IMBALANCE_MEASURES:
            raise UrnConfigError(f"urn D must be one of {', '.join(IMBALANCE_MEASURES)}")
        selection = raw.get("urn_selection", "method1")
        if selection not in URN_SELECTIONS:
            raise UrnConfigError(f"urn urn_selection must be one of {', '.join(URN_SELECTIONS)}")
        seed = raw.get("starting_seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise UrnConfigError("urn starting_seed must be a non-negative integer")
        w = _number(raw, "w", 1)
        alpha = _number(raw, "alpha", 0)
        beta = _number(raw, "beta", 1)
        if w == 0:
            # With w = 0 the first participant meets an urn with no balls at all (T = 0):
            # the draw probabilities b/T are undefined, so refuse the configuration.
            raise UrnConfigError("urn w must be positive: with w=0 the first urn has no balls")
        return cls(
            treatments=tuple(treatments),
            factors=clean_factors,
            D=measure,
            alpha=alpha,
            beta=beta,
            w=w,
            starting_seed=seed,
            urn_selection=selection,
        )

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready data (the reference API's study_config shape)."""
        return {
            "treatments": list(self.treatments),
            "factors": {factor: list(levels) for factor, levels in self.factors.items()},
            "D": self.D,
            "alpha": self.alpha,
            "beta": self.beta,
            "w": self.w,
            "starting_seed": self.starting_seed,
            "urn_selection": self.urn_selection,
        }


def has_weak_seed(raw: Mapping[str, Any]) -> bool:
    """Does this urn config (a session config's ``urn=dict(...)``) fix a starting_seed below
    WEAK_SEED_LIMIT?"""
    seed = raw.get("starting_seed")
    return isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < WEAK_SEED_LIMIT


@dataclass(frozen=True)
class Assignment:
    """The outcome of randomizing one participant."""

    treatment: str
    treatment_index: int
    rng_state_after: RngState
    candidates: tuple[str, ...]
    chosen_factor: str
    urn_d: tuple[tuple[str, str, float], ...]


def empty_counts(config: UrnConfig) -> Counts:
    """Zero counts for every (factor, level) urn."""
    return {
        (factor, level): [0] * len(config.treatments)
        for factor, levels in config.factors.items()
        for level in levels
    }


def initial_rng_state(config: UrnConfig) -> RngState:
    """The PCG64 state of ``Generator(PCG64(starting_seed))``."""
    import numpy as np  # here, not at the top: a start that draws nothing does not load numpy

    return dict(np.random.PCG64(config.starting_seed).state)


def check_levels(config: UrnConfig, levels: Mapping[str, Any]) -> dict[str, str]:
    """The participant's level of every factor; InvalidLevels naming the first problem."""
    unknown = sorted(set(levels) - set(config.factors))
    if unknown:
        raise InvalidLevels(f"unknown factor {unknown[0]!r}", factor=unknown[0])
    clean: dict[str, str] = {}
    for factor, allowed in config.factors.items():
        if factor not in levels or levels[factor] in (None, ""):
            raise InvalidLevels(f"missing level for factor {factor!r}", factor=factor)
        level = str(levels[factor])
        if level not in allowed:
            raise InvalidLevels(
                f"invalid level {level!r} for factor {factor!r}; expected one of {list(allowed)}",
                factor=factor,
            )
        clean[factor] = level
    return clean


def _balls(config: UrnConfig, counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [config.w + config.alpha * c + config.beta * (total - c) for c in counts]


def imbalance(measure: str, balls: Sequence[float]) -> float:
    """The urn's imbalance ``d`` in the reference's exact floating-point order."""
    total = sum(balls)
    if measure == "range":
        return (max(balls) - min(balls)) / total
    shares = [b / total for b in balls]
    if measure == "variance":
        import numpy as np

        return float(np.var(np.array(shares, dtype=np.float64), ddof=1))
    mean = shares[0]
    for share in shares[1:]:
        mean = mean + share
    mean = mean / len(shares)
    d = 0.0
    for share in shares:
        d = d + ((share - mean) * (share - mean)) / mean
    return d


# One scratch generator per thread, its whole state set before each use: a new
# ``PCG64()`` would first draw OS entropy only to have it overwritten (about 50 us a draw).
_SCRATCH = threading.local()


def _generator_at(rng_state: RngState) -> Any:
    """This thread's numpy Generator, set to ``rng_state`` (state, increment and the buffered
    32 bits: everything it draws from)."""
    import numpy as np

    generator = getattr(_SCRATCH, "generator", None)
    if generator is None:
        generator = np.random.Generator(np.random.PCG64(0))
        _SCRATCH.generator = generator
    generator.bit_generator.state = rng_state
    return generator


def weighted_index(generator: Any, weights: Sequence[float]) -> int:
    """``int(generator.choice(len(weights), 1, p=weights / their sum)[0])``, the same index
    from the same draw, without most of ``choice``'s cost (about 60 us a call).

    With ``p``, numpy's ``choice`` checks it (non-negative, summing to 1: no draw), then
    takes ``cdf = p.cumsum()``, ``cdf /= cdf[-1]`` and ``cdf.searchsorted(self.random(size),
    side="right")``; that is done here, with the same numpy operations in the same order.
    Positive finite weights always pass its checks; other weights go to ``choice`` itself,
    which raises as it always did.
    """
    import numpy as np

    balls = np.array(weights)
    p = balls / balls.sum()
    if not (all(weight > 0 for weight in weights) and math.isfinite(sum(weights))):
        return int(generator.choice(len(weights), 1, p=p)[0])
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return int(cdf.searchsorted(generator.random(1), side="right")[0])


def assign(
    config: UrnConfig,
    counts: Mapping[tuple[str, str], Sequence[int]],
    rng_state: RngState,
    levels: Mapping[str, Any],
) -> Assignment:
    """Randomize one participant. Pure: neither ``counts`` nor ``rng_state`` is changed.

    ``counts`` needs at least the participant's urns. Raises InvalidLevels.
    """

    clean = check_levels(config, levels)
    generator = _generator_at(rng_state)
    urn_d = []
    for factor in config.factors:
        key = (factor, clean[factor])
        urn_d.append((factor, clean[factor], imbalance(config.D, _balls(config, counts[key]))))
    highest = max(d for _, _, d in urn_d)
    candidates = tuple(sorted(factor for factor, _, d in urn_d if d == highest))
    if len(candidates) > 1:
        chosen = candidates[int(generator.choice(range(len(candidates)), 1)[0])]
    else:
        chosen = candidates[0]
    index = weighted_index(generator, _balls(config, counts[(chosen, clean[chosen])]))
    return Assignment(
        treatment=config.treatments[index],
        treatment_index=index,
        rng_state_after=generator.bit_generator.state,
        candidates=candidates,
        chosen_factor=chosen,
        urn_d=tuple(urn_d),
    )


def count_assignment(counts: Counts, levels: Mapping[str, str], treatment_index: int) -> Counts:
    """A copy of ``counts`` with the assignment added to each of the participant's urns."""
    updated = {key: list(value) for key, value in counts.items()}
    for factor, level in levels.items():
        updated[(factor, level)][treatment_index] += 1
    return updated


def replay(
    config: UrnConfig, participants: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[Assignment]:
    """Randomize participants in order from the seed (verification and simulation)."""
    counts = empty_counts(config)
    state = initial_rng_state(config)
    results = []
    for _participant_id, levels in participants:
        result = assign(config, counts, state, levels)
        counts = count_assignment(counts, check_levels(config, levels), result.treatment_index)
        state = result.rng_state_after
        results.append(result)
    return results
