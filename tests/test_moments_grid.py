"""The mean/variance parameterization of every quantized family on a dense grid of the feasible
region: ``from_moments`` matches every interior pair, its native parameters reproduce
``pmf_from_moments``, and the moments of the result are the targets.

Grid: 400 × 400 cell midpoints ψ = 1 + (K − 1)(i + ½)/400, ρ = (j + ½)/400, so the corners
(ψ = 1.005 or 4.995 with ρ = 0.00125 or 0.99875) and the integer means are included.

Unrepresentable points: Kumaraswamy members with almost all mass at 1 and K have log a ≈ −1/ρ;
where log a < −708.4 (a below the smallest normal float; here ρ < 0.004 near the ends of the
scale) the native a is 0.0, its limit value, and ``pmf`` raises ``ValueError``. Every other
family has finite native parameters at every grid point.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import ratingdist as rd
from ratingdist import scale
from tests import reference as ref

K = 5
N = 400
QUANTIZED = ("normal", "logistic", "beta", "kumaraswamy", "logit-logistic")


@pytest.fixture(scope="module")
def grid():
    psi = 1.0 + (K - 1) * (np.arange(N) + 0.5) / N
    rho = (np.arange(N) + 0.5) / N
    P, R = np.meshgrid(psi, rho, indexing="ij")
    P, R = P.ravel(), R.ravel()
    return P, R, scale.var_from_rho(P, R, K)


@pytest.mark.parametrize("name", QUANTIZED)
def test_from_moments_on_a_dense_grid(name, grid):
    psi, rho, var = grid
    fam = rd.family(name)
    params = fam.from_moments(psi, var)
    probs = fam.pmf_from_moments(psi, var)
    # the moments of the probabilities themselves are the targets
    mean, v = scale.moments_of_probs(probs)
    np.testing.assert_allclose(mean, psi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(v, var, rtol=0, atol=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=1e-13)
    assert np.all(probs >= 0.0)
    assert not np.isnan(params).any()

    representable = np.isfinite(params).all(axis=1) & (params[:, 1] > 0)
    if name in ("beta", "kumaraswamy"):
        representable &= params[:, 0] > 0
    if name == "kumaraswamy":
        lost = ~representable
        assert 0 < lost.sum() < 200
        assert np.all(params[lost, 0] == 0.0) and np.all(rho[lost] < 0.004)
        with pytest.raises(ValueError, match=r"parameter a of row 0 is 0\.0, outside the open"):
            fam.pmf(params[lost])
    else:
        assert representable.all()
    np.testing.assert_allclose(fam.pmf(params[representable]), probs[representable],
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", QUANTIZED)
def test_grid_members_match_the_independent_pmf(name, grid):
    """A sample of the grid through the reference pmf (scipy, or mpmath at 50 digits) at the
    reference study's parameters: the same pmf, with the target moments."""
    psi, _, var = grid
    fam = rd.family(name)
    rows = np.arange(0, len(psi), 797)
    params = fam.from_moments(psi[rows], var[rows])
    refp = fam.reference_params(params)
    usable = np.isfinite(params).all(axis=1) & (params[:, 0] != 0)
    if name == "logit-logistic":  # the median μ itself must keep its digits
        usable &= np.abs(params[:, 0]) < 5
    if name in ("normal", "logistic"):  # scipy's cdf differences lose digits at huge scales
        usable &= params[:, 1] < 1e3
    if name == "kumaraswamy":  # 1 − x^a at 50 digits needs a above 1e-40
        usable &= params[:, 0] > 1e-30
    assert usable.sum() > 100
    theirs = np.array([ref.quantized_pmf(name, a, b, K=K) for a, b in refp[usable]])
    np.testing.assert_allclose(fam.pmf(params[usable]), theirs, rtol=0, atol=1e-9)
    mean, v = scale.moments_of_probs(theirs)
    np.testing.assert_allclose(mean, psi[rows][usable], rtol=0, atol=1e-9)
    np.testing.assert_allclose(v, var[rows][usable], rtol=0, atol=1e-9)


def test_logit_logistic_median_next_to_one():
    """A wide member near the top of the scale: its median μ rounds to 1.0 in float64, which
    native parameters once returned (and pmf refused); logit μ keeps it."""
    fam = rd.family("logit-logistic")
    psi = np.array([4.995, 4.9, 1.005])
    var = scale.var_from_rho(psi, np.array([0.00125, 0.01, 0.00125]))
    params = fam.from_moments(psi, var)
    assert params[0, 0] > 37.0 and params[2, 0] < -37.0
    np.testing.assert_array_equal(fam.reference_params(params)[[0, 2], 0], [1.0, 0.0])
    probs = fam.pmf(params)
    np.testing.assert_allclose(probs, fam.pmf_from_moments(psi, var), rtol=0, atol=1e-12)
    mean, v = scale.moments_of_probs(probs)
    np.testing.assert_allclose(mean, psi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(v, var, rtol=0, atol=1e-12)
    # uniformly drawn feasible pairs: about 1 % have a median that rounds to 0 or 1
    rng = np.random.default_rng(0)
    m = rng.uniform(1, K, 20_000)
    v = scale.var_from_rho(m, rng.uniform(0, 1, 20_000))
    params = fam.from_moments(m, v)
    assert 0.002 < np.mean(np.abs(params[:, 0]) > 36.8) < 0.05
    np.testing.assert_allclose(fam.pmf(params), fam.pmf_from_moments(m, v), rtol=0, atol=1e-10)


def test_round_trip_through_the_reference_view():
    fam = rd.family("logit-logistic")
    native = np.array([[-2.0, 0.3], [0.0, 1.0], [3.5, 0.05]])
    np.testing.assert_allclose(fam.from_reference_params(fam.reference_params(native)), native,
                               rtol=1e-15, atol=1e-15)
    with pytest.raises(ValueError, match=r"reference parameter mu at index 1 is 1\.5"):
        fam.from_reference_params([[0.5, 0.3], [1.5, 0.3]])
    for name in ("normal", "gsd"):  # the other families' views are their native parameters
        np.testing.assert_array_equal(rd.family(name).reference_params(native), native)


def test_results_do_not_depend_on_the_thread_count(grid):
    psi, _, var = grid
    fam = rd.family("normal")
    rows = slice(0, None, 41)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fam.from_moments(psi[rows], var[rows])
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = fam.from_moments(psi[rows], var[rows])
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, many)
