"""Self-checks of the independent reference implementation in ``tests/reference.py``.

These tests check the reference against first principles (numerical integration, exact
moments in mpmath, KKT conditions, published GSD fits, random search), never against the
``ratingdist`` library.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

try:  # tests/ as a package or as a plain directory on sys.path
    from . import reference as R
except ImportError:
    import reference as R

REAL_COUNTS = [
    [0, 0, 25, 73, 7],
    [5, 13, 6, 0, 0],
    [0, 0, 1, 10, 13],
    [1, 0, 2, 7, 6],
    [3, 10, 6, 4, 1],
]

QMM_PARAMS = {
    "normal": [(3.0, 1.0), (3.824, 0.446), (1.2, 0.3), (6.5, 2.0), (-2.0, 5.0), (4.9, 0.05)],
    "logistic": [(3.0, 1.0), (3.8, 0.25), (1.2, 0.3), (6.5, 2.0), (-2.0, 5.0), (4.9, 0.05)],
    "beta": [(1.0, 1.0), (17.2, 8.6), (0.3, 0.7), (50.0, 2.0), (2.0, 60.0), (0.05, 0.05)],
    "kumaraswamy": [(1.0, 1.0), (8.0, 15.0), (0.3, 0.7), (3.0, 5.0), (20.0, 1.5), (0.5, 40.0)],
    "logit-logistic": [(0.5, 1.0), (0.669, 0.245), (0.1, 0.3), (0.95, 2.0), (0.3, 0.05)],
}


def _variance(p, K=5):
    k = np.arange(1, K + 1)
    m = p @ k
    return m, p @ (k - m) ** 2


# ---------------------------------------------------------------------------------------------
# Quantized models
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", R.QUANTIZED_FAMILIES)
@pytest.mark.parametrize("K", [3, 5, 7])
def test_qmm_pmf_is_a_distribution(family, K):
    for p1, p2 in QMM_PARAMS[family]:
        p = R.quantized_pmf(family, p1, p2, K=K)
        assert p.shape == (K,)
        assert np.all(p >= 0)
        assert abs(p.sum() - 1.0) < 1e-14


@pytest.mark.parametrize("family", ["normal", "logistic"])
def test_location_scale_pmf_matches_quadrature(family):
    pdf = stats.norm.pdf if family == "normal" else stats.logistic.pdf
    edges = [-np.inf, 1.5, 2.5, 3.5, 4.5, np.inf]
    for mu, s in QMM_PARAMS[family]:
        p = R.quantized_pmf(family, mu, s)
        for k in range(5):
            q, _ = integrate.quad(
                lambda x, mu=mu, s=s: pdf(x, loc=mu, scale=s),
                edges[k],
                edges[k + 1],
                epsabs=1e-15,
                epsrel=1e-13,
                limit=200,
                points=None if np.isinf(edges[k]) or np.isinf(edges[k + 1]) else [mu],
            )
            assert abs(p[k] - q) < 1e-10, (mu, s, k, p[k], q)


def test_unit_interval_pmfs_match_quadrature():
    def kuma_pdf(x, a, b):
        return a * b * x ** (a - 1) * (1 - x**a) ** (b - 1)

    def ll_pdf(x, mu, s):
        z = (special.logit(x) - special.logit(mu)) / s
        return special.expit(z) * special.expit(-z) / (s * x * (1 - x))

    pdfs = {
        "beta": lambda x, a, b: stats.beta.pdf(x, a, b),
        "kumaraswamy": kuma_pdf,
        "logit-logistic": ll_pdf,
    }
    edges = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    for family, pdf in pdfs.items():
        for p1, p2 in QMM_PARAMS[family]:
            if min(p1, p2) < 0.2 and family != "logit-logistic":
                continue  # integrable endpoint singularities: skip for quad's sake
            p = R.quantized_pmf(family, p1, p2)
            for k in range(5):
                q, _ = integrate.quad(
                    pdf, edges[k], edges[k + 1], args=(p1, p2), epsabs=1e-14, limit=200
                )
                assert abs(p[k] - q) < 1e-9, (family, p1, p2, k)


@pytest.mark.parametrize("family", R.QUANTIZED_FAMILIES)
def test_vectorized_float_pmf_matches_reference_pmf(family):
    for p1, p2 in QMM_PARAMS[family]:
        p = R.quantized_pmf(family, p1, p2)
        v = R._qmm_pmf_vec(family, np.array([p1]), np.array([p2]), 5)[0]
        big = p > 1e-300
        assert np.all(np.abs(v - p)[big] <= 1e-12 * p[big] + 1e-300)


@pytest.mark.parametrize("family", R.QUANTIZED_FAMILIES)
def test_latent_cdf_ppf(family):
    qs = np.array([1e-6, 0.01, 0.1, 0.5, 0.9, 0.99, 1 - 1e-6])
    for p1, p2 in QMM_PARAMS[family]:
        u = R.quantized_ppf(family, p1, p2, qs)
        assert np.all(np.diff(u) >= 0)
        back = R.quantized_cdf(family, p1, p2, u)
        # on the rating axis u = 0.5 + 5 x, quantiles within 1e-9 of an end are lost to rounding
        ok = (
            (u - 0.5 > 1e-9) & (5.5 - u > 1e-9)
            if family in ("beta", "kumaraswamy", "logit-logistic")
            else True
        )
        np.testing.assert_allclose(np.where(ok, back, qs), qs, rtol=1e-9, atol=1e-13)
        # the latent cdf reproduces the pmf at the thresholds k + 0.5 of the rating axis
        F = R.quantized_cdf(family, p1, p2, np.arange(1, 5) + 0.5)
        np.testing.assert_allclose(F, np.cumsum(R.quantized_pmf(family, p1, p2))[:-1], atol=1e-13)
        # closed-form inverses (used only here, as an independent check of the root finding)
        if family == "kumaraswamy":
            closed = 0.5 + 5 * (1 - (1 - qs) ** (1 / p2)) ** (1 / p1)
            np.testing.assert_allclose(u, closed, rtol=1e-10)
        if family == "logit-logistic":
            closed = 0.5 + 5 * special.expit(special.logit(p1) + p2 * special.logit(qs))
            np.testing.assert_allclose(u, closed, rtol=1e-10)


def test_known_latent_quantiles_of_worked_example():
    # notes.md 1.5: KonIQ image 10004473376.jpg, normal fit (3.824, 0.446) -> 3.25 / 3.82 / 4.40
    u = R.quantized_ppf("normal", 3.824, 0.446, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(u, [3.25, 3.82, 4.40], atol=0.006)
    u = R.quantized_ppf("logit-logistic", 0.669, 0.245, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(u, [3.21, 3.85, 4.38], atol=0.006)


# ---------------------------------------------------------------------------------------------
# GSD
# ---------------------------------------------------------------------------------------------
def _mp_C(psi, K):
    vmax = (psi - 1) * (K - psi)
    vmin = (mpmath.ceil(psi) - psi) * (psi - mpmath.floor(psi))
    return (mpmath.mpf(K) - 2) / (K - 1) * vmax / (vmax - vmin)


@pytest.mark.parametrize("K", [3, 5, 7])
def test_gsd_exact_moments(K):
    with mpmath.workdps(50):
        for psi_s in ["1.3", "2.1", "2.5", "3", "3.83", f"{K - 0.01}"]:
            psi = mpmath.mpf(psi_s)
            if psi >= K:
                continue
            C = _mp_C(psi, K)
            for rho in [mpmath.mpf(0), C / 3, C * mpmath.mpf("0.999"), C, (1 + C) / 2, 1]:
                q = R.gsd_pmf_exact(psi, rho, K=K, as_mpf=True)
                assert all(v >= 0 for v in q)
                assert abs(mpmath.fsum(q) - 1) < mpmath.mpf("1e-30")
                mean = mpmath.fsum((k + 1) * v for k, v in enumerate(q))
                var = mpmath.fsum((k + 1 - psi) ** 2 * v for k, v in enumerate(q))
                vmin = (mpmath.ceil(psi) - psi) * (psi - mpmath.floor(psi))
                vmax = (psi - 1) * (K - psi)
                assert abs(mean - psi) < mpmath.mpf("1e-30")
                assert abs(var - (rho * vmin + (1 - rho) * vmax)) < mpmath.mpf("1e-30")


def test_gsd_special_values():
    K = 5
    np.testing.assert_array_equal(R.gsd_pmf_exact(1, "0.4"), [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(R.gsd_pmf_exact(5, 0), [0, 0, 0, 0, 1])
    np.testing.assert_allclose(R.gsd_pmf_exact("2.2", 0), [2.8 / 4, 0, 0, 0, 1.2 / 4], atol=1e-16)
    np.testing.assert_allclose(R.gsd_pmf_exact("2.2", 1), [0, 0.8, 0.2, 0, 0], atol=1e-16)
    np.testing.assert_allclose(R.gsd_pmf_exact(3, 1), [0, 0, 1, 0, 0], atol=1e-16)
    # rho == C exactly: the binomial
    with mpmath.workdps(50):
        psi = mpmath.mpf("2.2")
        C = _mp_C(psi, K)
        q = R.gsd_pmf_exact(psi, C, as_mpf=True)
    binom = stats.binom.pmf(np.arange(5), 4, 1.2 / 4)
    np.testing.assert_allclose(np.array([float(v) for v in q]), binom, rtol=1e-14)
    # continuity across C and towards rho = 0
    C = float(C)
    for eps in (1e-9, -1e-9):
        np.testing.assert_allclose(R.gsd_pmf_exact(2.2, C + eps), binom, atol=1e-8)
    np.testing.assert_allclose(R.gsd_pmf_exact(2.2, 1e-12), R.gsd_pmf_exact(2.2, 0), atol=1e-10)


@pytest.mark.parametrize("K", [3, 5, 7])
def test_gsd_float_matches_exact(K):
    rng = np.random.default_rng(3)
    psi = np.concatenate([rng.uniform(1, K, 150), [1, 2, 3, K, 1.5, K - 0.5]])
    rho = np.concatenate([rng.uniform(0, 1, 150), [0.3, 0, 1, 0.2, 1, 0]])
    vec = R._gsd_pmf_vec(psi, rho, K)
    for i in range(psi.size):
        np.testing.assert_allclose(vec[i], R.gsd_pmf_exact(psi[i], rho[i], K=K), atol=2e-15)


@pytest.mark.parametrize("K", [4, 7])
def test_maxent_bruteforce_other_K(K):
    k = np.arange(1, K + 1.0)
    for mean, rho in [(2.2, 0.3), (3.0, 0.7), (K - 0.6, 0.1)]:
        var = rho * R.v_min(mean) + (1 - rho) * R.v_max(mean, K)
        p = R.maxent_pmf_bruteforce(mean, var, K=K)
        m = p @ k
        assert abs(m - mean) < 1e-9 and abs(p @ (k - m) ** 2 - var) < 1e-9
        X = np.column_stack([np.ones(K), k, k**2])
        coef, *_ = np.linalg.lstsq(X, np.log(p), rcond=None)
        assert np.max(np.abs(X @ coef - np.log(p))) < 1e-6


@pytest.mark.parametrize(
    ("counts", "psi", "rho", "T", "T_tol"),
    [
        ([5, 13, 6, 0, 0], 2.10, 0.8375, 1.2893, 2e-3),
        ([0, 0, 1, 10, 13], 4.50, 0.935, 0.0946, 2e-3),
        ([1, 0, 2, 7, 6], 4.05, 0.665, 2.2004, 2e-3),
        ([6, 17, 3, 1, 0], 1.96, 0.8525, 0.1283, 2e-3),
    ],
)
def test_gsd_published_fits(counts, psi, rho, T, T_tol):
    params, f = R.mle_multistart("gsd", counts)
    assert abs(params[0] - psi) < 0.01
    assert abs(params[1] - rho) < 0.01
    c = np.asarray(counts, dtype=float)
    p = R.gsd_pmf_exact(*params)
    nz = c > 0
    T_fit = float(np.sum(c[nz] * np.log(c[nz] / (c.sum() * p[nz]))))
    assert abs(T_fit - T) < T_tol
    assert abs(R.nll(c, p) - f) < 1e-10


# ---------------------------------------------------------------------------------------------
# Maximum entropy
# ---------------------------------------------------------------------------------------------
MAXENT_POINTS = [(m, rho) for m in (1.3, 2.0, 2.5, 3.1, 3.83, 4.6) for rho in (0.05, 0.3, 0.6, 0.9)]


@pytest.mark.parametrize(("mean", "rho"), MAXENT_POINTS)
def test_maxent_bruteforce_moments_and_kkt(mean, rho):
    vmin, vmax = R.v_min(mean), R.v_max(mean)
    var = rho * vmin + (1 - rho) * vmax
    p = R.maxent_pmf_bruteforce(mean, var)
    assert np.all(p > 0)
    assert abs(p.sum() - 1) < 1e-14
    m, v = _variance(p)
    assert abs(m - mean) < 1e-9
    assert abs(v - var) < 1e-9
    # KKT: log p_k is a quadratic in k
    k = np.arange(1, 6.0)
    X = np.column_stack([np.ones(5), k, k**2])
    coef, *_ = np.linalg.lstsq(X, np.log(p), rcond=None)
    assert np.max(np.abs(X @ coef - np.log(p))) < 1e-6

    # independent cross-check: the exponential family member with these moments (root find)
    def moments(lam):
        q = R.maxent_pmf_exp(lam[0], lam[1])
        mm, vv = _variance(q)
        return [mm - mean, vv - var]

    lam = optimize.least_squares(moments, coef[1:], xtol=1e-15, ftol=1e-15, gtol=1e-15).x
    np.testing.assert_allclose(p, R.maxent_pmf_exp(*lam), atol=1e-9)


def test_maxent_bruteforce_boundaries():
    np.testing.assert_allclose(R.maxent_pmf_bruteforce(2.3, 0.21), [0, 0.7, 0.3, 0, 0], atol=1e-15)
    np.testing.assert_allclose(R.maxent_pmf_bruteforce(3.0, 0.0), [0, 0, 1, 0, 0])
    np.testing.assert_allclose(R.maxent_pmf_bruteforce(2.0, 3.0), [0.75, 0, 0, 0, 0.25], atol=1e-15)
    np.testing.assert_allclose(R.maxent_pmf_bruteforce(1.0, 0.0), [1, 0, 0, 0, 0])
    with pytest.raises(ValueError):
        R.maxent_pmf_bruteforce(2.0, 3.5)
    # close to the boundary the interior solution approaches the limit pmf
    p = R.maxent_pmf_bruteforce(2.3, 0.21 + 1e-6)
    assert np.max(np.abs(p - [0, 0.7, 0.3, 0, 0])) < 1e-5
    # K = 3: the constraints determine the pmf
    np.testing.assert_allclose(R.maxent_pmf_bruteforce(2.0, 0.5, K=3), [0.25, 0.5, 0.25])


# ---------------------------------------------------------------------------------------------
# Maximum likelihood
# ---------------------------------------------------------------------------------------------
def test_nll_helper():
    assert R.nll([0, 2, 0], [0.0, 0.5, 0.5]) == pytest.approx(2 * math.log(2), abs=1e-15)
    assert R.nll([1, 2, 0], [0.0, 0.5, 0.5]) == math.inf
    np.testing.assert_allclose(R.nll([[1, 1], [2, 0]], [0.5, 0.5]), [2 * math.log(2)] * 2)


def _random_natural(family, rng, n):
    if family in ("normal", "logistic"):
        return np.column_stack([rng.uniform(0, 6, n), np.exp(rng.uniform(-2.5, 1.5, n))])
    if family in ("beta", "kumaraswamy"):
        return np.exp(rng.uniform(-2, 3.5, (n, 2)))
    if family == "logit-logistic":
        return np.column_stack([rng.uniform(0.02, 0.98, n), np.exp(rng.uniform(-3, 1, n))])
    if family == "maxent":
        return np.column_stack([rng.uniform(-10, 15, n), rng.uniform(-2, 0.5, n)])
    return np.column_stack([rng.uniform(1, 5, n), rng.uniform(0, 1, n)])  # gsd


def _public_nll(family, counts, par):
    try:
        return R.nll(counts, R.family_pmf(family, par[0], par[1]))
    except ValueError:
        return math.inf


def _to_free(family, par):
    if family in ("maxent",):
        return np.array(par, dtype=float)
    if family == "gsd":
        return np.array([special.logit((par[0] - 1) / 4), special.logit(par[1])])
    return R._to_theta(family, *par)


def _from_free(family, x):
    if family == "maxent":
        return x
    if family == "gsd":
        return np.array([1 + 4 * special.expit(x[0]), special.expit(x[1])])
    P1, P2 = R._to_natural(family, np.asarray(x, dtype=float)[None, :])
    return np.array([P1[0], P2[0]])


@pytest.mark.parametrize("family", R.FAMILIES)
def test_mle_beats_random_search_and_its_polish(family):
    rng = np.random.default_rng(12345)
    pts = _random_natural(family, rng, 200)
    for counts in REAL_COUNTS:
        c = np.asarray(counts, dtype=float)
        params, f = R.mle_multistart(family, counts)
        assert np.isfinite(f)
        # the reported nll is the public-pmf nll at the reported parameters
        assert abs(_public_nll(family, c, params) - f) < 1e-9 * max(1.0, f)
        vals = np.array([_public_nll(family, c, par) for par in pts])
        assert f <= vals.min() + 1e-9
        x0 = _to_free(family, pts[int(np.argmin(vals))])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = optimize.minimize(
                lambda x, c=c: _public_nll(family, c, _from_free(family, x)),
                x0,
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
            )
        polished = _public_nll(family, c, _from_free(family, res.x))
        assert f <= polished + 1e-8, (family, counts, f, polished)


def test_maxent_mle_is_moment_matching_and_bruteforce_agrees():
    k = np.arange(1, 6.0)
    for counts in REAL_COUNTS:
        c = np.asarray(counts, dtype=float)
        (l1, l2), _ = R.mle_multistart("maxent", counts)
        p = R.maxent_pmf_exp(l1, l2)
        emp = c / c.sum()
        m_emp, v_emp = emp @ k, emp @ (k - emp @ k) ** 2
        m, v = _variance(p)
        assert abs(m - m_emp) < 1e-9
        assert abs(v - v_emp) < 1e-9
        np.testing.assert_allclose(p, R.maxent_pmf_bruteforce(m_emp, v_emp), atol=1e-8)


def test_mle_reference_bounds():
    box = R._REFERENCE_BOX
    for family in R.QUANTIZED_FAMILIES:
        for counts in REAL_COUNTS:
            par_b, f_b = R.mle_multistart(family, counts, bounds="reference")
            _, f_u = R.mle_multistart(family, counts)
            (lo1, hi1), (lo2, hi2) = box[family]
            assert lo1 <= par_b[0] <= hi1 and lo2 < par_b[1] <= hi2
            assert f_b >= f_u - 1e-9
    # [0, 0, 25, 73, 7]: notes.md gives beta (17.2, 8.6) inside the box
    par, _ = R.mle_multistart("beta", [0, 0, 25, 73, 7], bounds="reference")
    np.testing.assert_allclose(par, [17.2, 8.6], atol=0.05)


def test_mle_published_qmm_fits():
    # notes.md 1.5 worked example (KonIQ 10004473376.jpg)
    par, _ = R.mle_multistart("normal", [0, 0, 25, 73, 7])
    np.testing.assert_allclose(par, [3.824, 0.446], atol=6e-4)
    par, _ = R.mle_multistart("logit-logistic", [0, 0, 25, 73, 7])
    np.testing.assert_allclose(par, [0.669, 0.245], atol=6e-4)


def test_mle_degenerate_counts_reach_the_supremum():
    for counts in ([0, 0, 0, 6, 18], [23, 1, 0, 0, 0]):
        c = np.asarray(counts, dtype=float)
        best = R.nll(c, c / c.sum())
        for family in R.FAMILIES:
            _, f = R.mle_multistart(family, counts)
            assert best - 1e-12 <= f <= best + 1e-6, (family, counts, f, best)
