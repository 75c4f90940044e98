"""Properties of the pure urn algorithm (Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.randomization.urn import (
    InvalidLevels,
    UrnConfig,
    UrnConfigError,
    assign,
    empty_counts,
    initial_rng_state,
    replay,
    weighted_index,
)

FACTORS = {"sex": ["M", "F"], "site": ["a", "b", "c"]}
ARRIVALS = st.lists(
    st.tuples(st.sampled_from(FACTORS["sex"]), st.sampled_from(FACTORS["site"])),
    min_size=1,
    max_size=30,
)
NAMES = st.lists(st.text(min_size=1, max_size=10), min_size=2, max_size=4, unique=True)


def _people(arrivals):
    return [(str(i), {"sex": s, "site": t}) for i, (s, t) in enumerate(arrivals)]


@settings(max_examples=50, deadline=None)
@given(
    arrivals=ARRIVALS,
    seed=st.integers(0, 2**32),
    measure=st.sampled_from(["chisquare", "range", "variance"]),
    names=NAMES,
)
def test_same_seed_same_sequence_and_state_chain(arrivals, seed, measure, names):
    config = UrnConfig.from_dict(
        {"treatments": names, "factors": FACTORS, "D": measure, "starting_seed": seed}
    )
    first = replay(config, _people(arrivals))
    second = replay(config, _people(arrivals))
    assert [a.treatment for a in first] == [a.treatment for a in second]
    assert [a.rng_state_after for a in first] == [a.rng_state_after for a in second]
    assert all(a.treatment in names for a in first)
    # Every draw advances the RNG: no two participants share a state.
    states = [str(a.rng_state_after) for a in first]
    assert len(set(states)) == len(states)


@settings(max_examples=30, deadline=None)
@given(arrivals=ARRIVALS)
def test_assign_does_not_mutate_its_inputs(arrivals):
    config = UrnConfig.from_dict({"treatments": ["A", "B"], "factors": FACTORS})
    counts, state = empty_counts(config), initial_rng_state(config)
    before_counts, before_state = repr(counts), repr(state)
    assign(config, counts, state, {"sex": arrivals[0][0], "site": arrivals[0][1]})
    assert repr(counts) == before_counts
    assert repr(state) == before_state


@pytest.mark.parametrize(
    "raw",
    [
        {"factors": FACTORS},
        {"treatments": ["A"], "factors": FACTORS},
        {"treatments": ["A", "A"], "factors": FACTORS},
        {"treatments": ["A", "B"], "factors": {}},
        {"treatments": ["A", "B"], "factors": {"sex": []}},
        {"treatments": ["A", "B"], "factors": FACTORS, "D": "entropy"},
        {"treatments": ["A", "B"], "factors": FACTORS, "w": 0},
        {"treatments": ["A", "B"], "factors": FACTORS, "beta": -1},
        {"treatments": ["A", "B"], "factors": FACTORS, "starting_seed": "x"},
        {"treatments": ["A", "B"], "factors": FACTORS, "urn_selection": "method9"},
        {"treatments": ["A", "B"], "factors": FACTORS, "colour": "red"},
    ],
)
def test_bad_configs_are_refused_with_a_message(raw):
    with pytest.raises(UrnConfigError):
        UrnConfig.from_dict(raw)


@pytest.mark.parametrize(
    "levels", [{"sex": "M"}, {"sex": "X", "site": "a"}, {"sex": "M", "site": "a", "age": "1"}]
)
def test_bad_levels_name_the_factor(levels):
    config = UrnConfig.from_dict({"treatments": ["A", "B"], "factors": FACTORS})
    with pytest.raises(InvalidLevels) as caught:
        assign(config, empty_counts(config), initial_rng_state(config), levels)
    assert caught.value.factor in ("site", "sex", "age")


WEIGHTS = st.lists(
    st.one_of(
        st.floats(min_value=1e-300, max_value=1e12),
        st.integers(1, 10**6).map(float),
        st.sampled_from([0.0, -1.0, float("nan"), float("inf")]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(weights=WEIGHTS, seed=st.integers(0, 2**64 - 1), skip=st.integers(0, 3))
def test_weighted_index_draws_as_numpys_choice(weights, seed, skip):
    import numpy as np

    state = np.random.Generator(np.random.PCG64(seed))
    state.random(skip)  # a state partway, with a buffered half word or not
    state.integers(0, 2**31, skip)
    before = state.bit_generator.state
    ours, theirs = np.random.Generator(np.random.PCG64()), np.random.Generator(np.random.PCG64())
    ours.bit_generator.state = theirs.bit_generator.state = before
    balls = np.array(weights)
    with np.errstate(all="ignore"):  # 0 / 0 and inf / inf warn alike in both
        try:
            expected: object = int(theirs.choice(len(weights), 1, p=balls / balls.sum())[0])
        except ValueError as exc:
            expected = str(exc)
        try:
            got: object = weighted_index(ours, weights)
        except ValueError as exc:
            got = str(exc)
    assert got == expected
    assert ours.bit_generator.state == theirs.bit_generator.state
