"""Self-checks of the reference posterior predictive in ``tests/reference_posterior.py``.

The reference is checked against first principles: exactness of its quadrature rule, the
normalization and symmetries of the predictive pmf, agreement of two refinement levels,
agreement with nested ``scipy.integrate.quad``, and the large-N limit (the maximum-likelihood
pmf). Measured on K = 5, counts ``[0, 2, 5, 2, 1] · N / 10`` with N = 5..40 and the seven
families: ``tol=1e-6`` and ``tol=1e-9`` agree to better than 5e-9 (mostly ~1e-12) relative on
every category, and nested ``quad`` at ``epsrel=1e-10`` agrees to ~1e-13.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

import ratingdist as rd

try:  # tests/ as a package or as a plain directory on sys.path
    from . import reference_posterior as P
except ImportError:
    import reference_posterior as P

K = 5
TYPICAL = [0, 2, 5, 2, 1]
LARGE = [0, 20, 60, 30, 5]
FAST = ("maxent", "gsd")


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------
def test_gauss_kronrod_rule_is_exact():
    for d in range(24):
        exact = (1 - (-1) ** (d + 1)) / (d + 1)
        assert P.WK @ P.XK**d == pytest.approx(exact, abs=1e-14), d
        if d <= 13:
            assert P.WG @ P.XK**d == pytest.approx(exact, abs=1e-14), d
    gauss = np.polynomial.legendre.leggauss(7)[0]
    np.testing.assert_allclose(P.XK[1::2], gauss, atol=1e-15)
    assert np.all(P.WG[::2] == 0)


@pytest.mark.parametrize("name", P.FAMILIES)
def test_family_has_the_requested_moments(name):
    """pmf(ψ, ρ) has mean ψ and variance ρ v_min + (1 − ρ) v_max (the bound relies on it)."""
    rng = np.random.default_rng(3)
    psi = rng.uniform(1.02, K - 0.02, 300)
    rho = rng.uniform(0.02, 0.98, 300)
    p = P.family_pmf_psi_rho(name, psi, rho, K)
    ok = np.all(np.isfinite(p), axis=1)
    assert ok.mean() > 0.95
    k = np.arange(1, K + 1)
    mean = p[ok] @ k
    var = p[ok] @ k**2 - mean**2
    v = rho * P._v_min(psi) + (1 - rho) * P._v_max(psi, K)
    np.testing.assert_allclose(p[ok].sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(mean, psi[ok], atol=1e-7)
    np.testing.assert_allclose(var, v[ok], atol=1e-6)


@pytest.mark.parametrize("name", FAST)
def test_likelihood_bound_holds(name):
    rng = np.random.default_rng(4)
    psi = np.concatenate([rng.uniform(1, K, 500), 1 + 10.0 ** rng.uniform(-6, -1, 100)])
    rho = np.concatenate([rng.uniform(0, 1, 500), 1 - 10.0 ** rng.uniform(-6, 0, 100)])
    p = P.family_pmf_psi_rho(name, psi, rho, K)
    ok = np.all(np.isfinite(p), axis=1)
    for c in ([0, 2, 5, 2, 1], [3, 0, 0, 1, 4], [0, 0, 0, 0, 7], [1, 1, 1, 1, 1]):
        c = np.asarray(c, dtype=float)
        ll = P.log_likelihood(c, p[ok])
        bound = P.log_likelihood_bound(c, psi[ok], rho[ok], K)
        assert np.all(ll <= bound + 1e-9)


def test_gsd_split_point():
    psi = np.array([1.25, 1.5, 2.0, 2.5, 3.0, 4.5, 4.99])
    vmax = P._v_max(psi, K)
    expected = (K - 2) / (K - 1) * vmax / (vmax - P._v_min(psi))
    np.testing.assert_allclose(P._gsd_split(psi, K), expected, rtol=1e-14)
    # at ρ = C(ψ) the GSD is the binomial distribution with mean ψ
    for x in (1.3, 2.7, 4.2):
        cc = float(P._gsd_split(np.array(x), K))
        p = P.family_pmf_psi_rho("gsd", x, cc, K)[0]
        binom = stats.binom.pmf(np.arange(K), K - 1, (x - 1) / (K - 1))
        np.testing.assert_allclose(p, binom, atol=1e-10)


# --------------------------------------------------------------------------------------------
# input checking
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "counts",
    [[0, 0, 0, 0, 0], [0, 1, -1, 0, 0], [0, 1.5, 2, 0, 0], [1, 2, 3, 4], [0, np.nan, 1, 0, 0]],
)
def test_bad_counts_raise(counts):
    with pytest.raises(ValueError):
        P.posterior_predictive_reference(counts, "gsd")


def test_unknown_family_raises():
    with pytest.raises(ValueError, match="unknown family"):
        P.posterior_predictive_reference(TYPICAL, "cauchy")


# --------------------------------------------------------------------------------------------
# properties of the predictive pmf
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize(
    "counts", [TYPICAL, [0, 3, 4, 0, 0], [0, 0, 5, 0, 0], [5, 0, 0, 0, 5], [1, 0, 0, 0, 0]]
)
def test_pmf_is_normalized_and_positive(name, counts):
    q, info = P.posterior_predictive_reference(counts, name, return_info=True)
    assert q.shape == (K,)
    assert np.all(q > 0)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(info["error"] <= 2e-6 * (q + 1e-8))
    assert info["n_failed"] == 0


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("k", range(K))
def test_single_rating_reverses_with_the_scale(name, k):
    c = np.zeros(K, dtype=int)
    c[k] = 1
    q = P.posterior_predictive_reference(c, name)
    q_rev = P.posterior_predictive_reference(c[::-1], name)
    np.testing.assert_allclose(q_rev, q[::-1], rtol=1e-7)


@pytest.mark.parametrize("name", FAST)
def test_symmetric_counts_give_symmetric_pmf(name):
    q = P.posterior_predictive_reference([1, 2, 3, 2, 1], name)
    np.testing.assert_allclose(q, q[::-1], rtol=1e-7)


@pytest.mark.parametrize("name", FAST)
def test_large_n_approaches_maximum_likelihood_pmf(name):
    q = P.posterior_predictive_reference(LARGE, name)
    ml = rd.fit([LARGE], name).probs[0]
    assert np.max(np.abs(q - ml)) < 0.03
    ll = P.max_likelihood_point(LARGE, name, K)[2]
    assert -ll == pytest.approx(float(rd.fit([LARGE], name).nll[0]), abs=1e-6)
    # ten times the data: the gap to the ML pmf shrinks about tenfold
    q10 = P.posterior_predictive_reference(np.asarray(LARGE) * 10, name)
    ml10 = rd.fit([np.asarray(LARGE) * 10], name).probs[0]
    assert np.max(np.abs(q10 - ml10)) < 0.3 * np.max(np.abs(q - ml))


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("counts", [TYPICAL, [0, 3, 4, 0, 0], [5, 0, 0, 0, 5], LARGE])
def test_two_refinement_levels_agree(name, counts):
    q1, i1 = P.posterior_predictive_reference(counts, name, tol=1e-6, return_info=True)
    q2, i2 = P.posterior_predictive_reference(counts, name, tol=1e-9, return_info=True)
    assert i2["n_eval"] >= i1["n_eval"]
    np.testing.assert_allclose(q1, q2, rtol=1e-7, atol=0)


# --------------------------------------------------------------------------------------------
# points where the family cannot be evaluated
# --------------------------------------------------------------------------------------------
def _failing_gsd(monkeypatch, fails):
    """Make the GSD raise on every batch that holds a point with ``fails(psi, rho)``."""
    raw = P._raw_pmf

    def patched(name, K):
        fun = raw(name, K)

        def wrapped(psi, rho):
            if np.any(fails(np.asarray(psi), np.asarray(rho))):
                raise RuntimeError("cannot evaluate")
            return fun(psi, rho)

        return wrapped

    monkeypatch.setattr(P, "_raw_pmf", patched)


def test_isolated_failures_are_bridged(monkeypatch):
    exact = P.posterior_predictive_reference(TYPICAL, "gsd")
    _failing_gsd(monkeypatch, lambda psi, rho: np.floor(psi * 1e6 + rho * 1e7) % 37 == 0)
    q, info = P.posterior_predictive_reference(TYPICAL, "gsd", return_info=True)
    assert info["n_failed"] == 0
    # about 3 % of the nodes are displaced by up to 1e-5
    np.testing.assert_allclose(q, exact, rtol=1e-7)


def test_failing_strip_gets_zero_weight(monkeypatch):
    exact = P.posterior_predictive_reference(TYPICAL, "gsd")
    _failing_gsd(monkeypatch, lambda psi, rho: rho < 5e-3)
    q, info = P.posterior_predictive_reference(TYPICAL, "gsd", return_info=True)
    assert info["n_failed"] > 0
    assert np.all(info["error_unresolved"] < 1e-6)
    # the likelihood of these counts is negligible at ρ < 5e-3
    np.testing.assert_allclose(q, exact, rtol=1e-6)


def test_failing_strip_where_the_likelihood_matters_warns(monkeypatch):
    _failing_gsd(monkeypatch, lambda psi, rho: rho < 5e-3)
    with pytest.warns(RuntimeWarning, match="could not be evaluated"):
        q, info = P.posterior_predictive_reference([5, 0, 0, 0, 5], "gsd", return_info=True)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.max(info["error_unresolved"]) > 1e-6


def test_numba_thread_setting_is_restored():
    numba = pytest.importorskip("numba")
    before = numba.get_num_threads()
    P.posterior_predictive_reference([0, 1, 1, 0, 0], "gsd")
    assert numba.get_num_threads() == before


# --------------------------------------------------------------------------------------------
# slow: every family, and an independent integration with scipy.integrate.quad
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in P.FAMILIES if n not in FAST])
def test_quantized_families(name):
    q1 = P.posterior_predictive_reference(TYPICAL, name, tol=1e-6)
    q2 = P.posterior_predictive_reference(TYPICAL, name, tol=1e-8)
    assert np.all(q1 > 0)
    assert q1.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(q1, q2, rtol=1e-7, atol=0)
    q = P.posterior_predictive_reference(LARGE, name)
    assert np.max(np.abs(q - rd.fit([LARGE], name).probs[0])) < 0.03


def _nested_quad(counts, name, shift):
    c = np.asarray(counts, dtype=float)

    def f(rho, psi, k):
        p = P.family_pmf_psi_rho(name, psi, rho, K)
        if not np.all(np.isfinite(p)):
            return 0.0
        w = np.exp(P.log_likelihood(c, p)[0] - shift)
        return w if k < 0 else w * p[0, k]

    def inner(psi, k):
        pts = [float(P._gsd_split(np.array(psi), K))] if name == "gsd" else None
        return integrate.quad(f, 0, 1, args=(psi, k), points=pts, epsabs=0, epsrel=1e-11)[0]

    ints = [
        sum(
            integrate.quad(inner, j, j + 1, args=(k,), epsabs=0, epsrel=1e-10)[0]
            for j in range(1, K)
        )
        for k in range(-1, K)
    ]
    return np.array(ints[1:]) / ints[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "counts"), [("gsd", TYPICAL), ("gsd", [0, 3, 4, 0, 0]), ("maxent", TYPICAL)]
)
def test_agrees_with_nested_quad(name, counts):
    shift = P.max_likelihood_point(counts, name, K)[2]
    np.testing.assert_allclose(
        P.posterior_predictive_reference(counts, name),
        _nested_quad(counts, name, shift),
        rtol=1e-8,
    )
