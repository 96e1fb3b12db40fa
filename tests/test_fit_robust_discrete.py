"""Maxent and GSD fits on adversarial panels: never raise, finite, at least as good as scipy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ratingdist as rd
from ratingdist import scale

from . import reference as ref

#: Panels that made the fits raise or stall (moments next to the feasible boundary).
HARD = np.array(
    [
        [5764, 0, 0, 1, 0],
        [0, 1, 0, 1, 2391],
        [0, 0, 7, 1, 3],
        [2508, 0, 1, 0, 0],
        [0, 0, 2, 0, 5021],
        [1, 4, 10, 6, 3],
        # GSD optima in a mixture piece away from the binomial edge (a local optimum there)
        [0, 4, 1, 0, 1],
        [0, 7, 0, 1, 1],
        [0, 7, 1, 1, 1],
        [0, 8, 1, 0, 2],
    ],
    dtype=float,
)


@pytest.mark.parametrize("name", ("maxent", "gsd"))
@pytest.mark.parametrize("bounds", ("natural", "reference"))
def test_hard_panels_finite_and_optimal(name, bounds):
    res = rd.fit(HARD, name, bounds=bounds)
    assert np.isfinite(res.params).all() and np.isfinite(res.probs).all()
    assert np.isfinite(res.nll).all()
    np.testing.assert_allclose(res.probs.sum(axis=1), 1.0, atol=1e-12)
    for row, ours in zip(HARD, res.nll):
        _, theirs = ref.mle_multistart(name, row, K=5, seed=0)
        assert ours <= theirs + 1e-6, (name, row, ours, theirs)


def test_maxent_huge_counts_with_a_stray_rating():
    counts = np.array([[1e18, 0, 0, 1, 0], [2, 0, 0, 0, 5.3e17], [1e15, 0, 1, 0, 1e15]])
    res = rd.fit(counts, "maxent")
    assert res.converged.all()
    assert np.isfinite(res.nll).all() and np.isfinite(res.params).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=5, max_size=5).filter(lambda c: sum(c) > 0),
    st.integers(2, 1000),
)
def test_maxent_matches_moments_and_is_scale_free(counts, factor):
    c = np.array([counts], dtype=float)
    res = rd.fit(c, "maxent")
    assert res.converged.all()
    if not res.limit[0]:
        mean, var = scale.moments_of_counts(c)
        np.testing.assert_allclose(res.mean, mean, atol=1e-10)
        np.testing.assert_allclose(res.var, var, atol=1e-10)
    np.testing.assert_allclose(rd.fit(c * factor, "maxent").params, res.params, atol=1e-9)
