"""Tests of the numba-compiled special functions in ``ratingdist._kernels.special``.

References are ``scipy.special`` where it is accurate and does not underflow, and mpmath with
50 digits elsewhere: ``mpmath.ncdf`` for log Φ, ``mpmath.digamma`` / ``loggamma``, and for the
incomplete beta function ``mpmath.betainc`` (small parameters) or, where that is too slow
(a, b up to 1e6), the positive hypergeometric series of DLMF 8.17.8,

    I_x(a, b) = x^a (1-x)^b / (a B(a, b)) · Σ_n (a+b)_n / (a+1)_n x^n,

summed on whichever side (x, a, b) or (1 - x, b, a) converges faster, the smaller of I, 1 - I
always summed directly. Derivatives are checked against ``mpmath.diff`` of that reference.
"""

from __future__ import annotations

import itertools
import math
import time

import mpmath as mp
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special as sc

from ratingdist._kernels import special as S

DPS = 50

# ---------------------------------------------------------------------------------------------
# mpmath references
# ---------------------------------------------------------------------------------------------


def _mp_log_series(x, a, b):
    """log I_x(a, b) from the positive series of DLMF 8.17.8 (x, a, b mpf)."""
    s = t = mp.mpf(1)
    n = 0
    eps = mp.mpf(2) ** (-mp.mp.prec - 8)
    while True:
        t *= (a + b + n) * x / (a + 1 + n)
        s += t
        n += 1
        if t < eps * s and (a + b + n) * x < a + 1 + n:
            break
    return (
        a * mp.log(x)
        + b * mp.log1p(-x)
        + mp.loggamma(a + b)
        - mp.loggamma(a + 1)
        - mp.loggamma(b)
        + mp.log(s)
    )


def _series_cost(x, a, b):
    """Rough number of terms the series needs (to pick the cheaper side)."""
    x, a, b = float(x), float(a), float(b)
    return (
        max(0.0, ((a + b) * x - a - 1.0) / (1.0 - x)) + 100.0 / -math.log(x) + 10 * math.sqrt(a + b)
    )


def _mp_l1mexp(v):
    return mp.log1p(-mp.exp(v)) if v < -1 else mp.log(-mp.expm1(v))


def mp_log_betainc_pair(x, a, b):
    """(log I_x(a,b), log(1 - I_x(a,b))) with mpmath (current precision)."""
    xm, am, bm = mp.mpf(x), mp.mpf(a), mp.mpf(b)
    if xm == 0:
        return mp.ninf, mp.mpf(0)
    if xm == 1:
        return mp.mpf(0), mp.ninf
    first = _series_cost(xm, am, bm) <= _series_cost(1 - xm, bm, am)
    for direct in (first, not first):
        v = _mp_log_series(xm, am, bm) if direct else _mp_log_series(1 - xm, bm, am)
        if v < -1e-15 or direct != first:  # the smaller side is summed directly
            break
    other = _mp_l1mexp(v)
    return (v, other) if direct else (other, v)


def rel_err(value, ref, floor=1e-300):
    """|value - ref| / |ref| (absolute error where |ref| <= floor)."""
    ref = mp.mpf(ref)
    if abs(ref) <= floor:
        return float(abs(mp.mpf(value) - ref))
    return float(abs((mp.mpf(value) - ref) / ref))


# ---------------------------------------------------------------------------------------------
# log-space helpers
# ---------------------------------------------------------------------------------------------


def test_log1mexp():
    xs = np.concatenate([-np.logspace(-300, 3, 700), [-math.log(2), -0.6931471805599454]])
    with mp.workdps(DPS):
        for x in xs:
            ref = _mp_l1mexp(mp.mpf(float(x)))
            assert rel_err(S.log1mexp(float(x)), ref) < 4e-16, x
    assert S.log1mexp(0.0) == -math.inf
    assert S.log1mexp(-math.inf) == 0.0
    assert math.isnan(S.log1mexp(1e-300)) and math.isnan(S.log1mexp(math.nan))


def test_logaddexp_logsubexp():
    rng = np.random.default_rng(0)
    a = rng.uniform(-800, 800, 300)
    d = 10.0 ** rng.uniform(-15, 3, 300)
    with mp.workdps(DPS):
        for ai, di in zip(a, d, strict=True):
            bi = ai - di  # the difference is rounded: compare with the exact doubles
            ea, eb = mp.exp(mp.mpf(ai)), mp.exp(mp.mpf(bi))
            assert rel_err(S.logaddexp(ai, bi), mp.log(ea + eb), 1.0) < 4e-16
            assert rel_err(S.logaddexp(bi, ai), mp.log(ea + eb), 1.0) < 4e-16
            if bi == ai:
                assert S.logsubexp(ai, bi) == -math.inf
            else:
                assert rel_err(S.logsubexp(ai, bi), mp.log(ea - eb), 1.0) < 4e-16
    ninf = -math.inf
    assert S.logaddexp(ninf, ninf) == ninf
    assert S.logaddexp(ninf, 2.0) == 2.0 and S.logaddexp(2.0, ninf) == 2.0
    assert S.logaddexp(math.inf, 2.0) == math.inf
    assert S.logsubexp(ninf, ninf) == ninf
    assert S.logsubexp(2.0, ninf) == 2.0
    assert S.logsubexp(2.0, 2.0) == ninf
    assert math.isnan(S.logsubexp(1.0, 2.0))


def test_log_expit():
    xs = np.concatenate([np.linspace(-800, 800, 1601), [-1e-300, 0.0, 1e-300, 36.9, 37.1]])
    np.testing.assert_allclose(
        [S.log_expit(float(x)) for x in xs], sc.log_expit(xs), rtol=4e-16, atol=0
    )
    with mp.workdps(DPS):
        for x in xs[::7]:
            ref = -mp.log1p(mp.exp(-mp.mpf(float(x))))
            assert rel_err(S.log_expit(float(x)), ref) < 4e-16
    assert S.log_expit(math.inf) == 0.0 and S.log_expit(-math.inf) == -math.inf


# ---------------------------------------------------------------------------------------------
# normal distribution
# ---------------------------------------------------------------------------------------------


def test_log_ndtr_against_mpmath():
    zs = np.concatenate(
        [
            np.linspace(-1000, 40, 1041),
            np.linspace(-45, 10, 1101),
            [-1e-300, 0.0, 1e-300, -20.0, -20.000000000000004, 8.3, 26.5, 37.7, 39.99],
        ]
    )
    worst = 0.0
    with mp.workdps(DPS):
        for z in zs:
            zm = mp.mpf(float(z))
            ref = mp.log(mp.ncdf(zm)) if z <= 0 else mp.log1p(-mp.ncdf(-zm))
            val = S.log_ndtr(float(z))
            if abs(ref) < 1e-15:  # tiny results: absolute error
                assert abs(val - float(ref)) < 1e-30, z
            else:
                err = rel_err(val, ref)
                worst = max(worst, err)
                assert err < 1e-14, z
    assert worst < 2e-15
    # log Φ(-40) = -804.6084420137538 to all digits
    assert S.log_ndtr(-40.0) == pytest.approx(-804.6084420137538, rel=1e-15)


def test_log_ndtr_special_values_and_scipy():
    assert S.log_ndtr(-math.inf) == -math.inf
    assert S.log_ndtr(math.inf) == 0.0
    assert math.isnan(S.log_ndtr(math.nan))
    assert S.log_ndtr(-1e200) == -math.inf
    zs = np.linspace(-1000, 40, 4001)
    ours = np.array([S.log_ndtr(z) for z in zs])
    ref = sc.log_ndtr(zs)
    # scipy is itself only good to ~2e-13 relative for z > 8, where log Φ(z) < 1e-15
    np.testing.assert_allclose(ours[zs < 8], ref[zs < 8], rtol=1e-13, atol=0)
    np.testing.assert_allclose(ours[zs >= 8], ref[zs >= 8], rtol=0, atol=1e-28)
    zs = np.linspace(-30, 30, 601)
    lpdf = -0.5 * zs * zs - 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose([S.norm_logpdf(z) for z in zs], lpdf, rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# gamma family
# ---------------------------------------------------------------------------------------------


def test_digamma():
    root = 1.4616321449683622
    xs = np.concatenate(
        [
            np.logspace(-300, 12, 600),
            np.linspace(0.01, 12, 1200),
            root + np.linspace(-0.3, 0.3, 601),
            [root, np.nextafter(root, 2.0), np.nextafter(root, 0.0), 1.0, 2.0, 9.999999, 10.0],
        ]
    )
    with mp.workdps(DPS):
        for x in xs:
            assert rel_err(S.digamma(float(x)), mp.digamma(mp.mpf(float(x)))) < 1e-14, x
    xs = np.logspace(-3, 7, 300)
    np.testing.assert_allclose([S.digamma(x) for x in xs], sc.digamma(xs), rtol=5e-15)
    assert math.isnan(S.digamma(0.0)) and math.isnan(S.digamma(-1.5))


def test_digamma_diff():
    with mp.workdps(DPS):
        for x in [1e-3, 0.05, 0.5, 1.0, 2.5, 17.0, 300.0, 5e3, 1e5, 1e6, 1e7]:
            for h in [1e-12, 1e-6, 1e-3, -1e-3, 0.5, 1.0, 50.0, 1e6, -0.3 * x, -0.999 * x]:
                if x + h <= 0:
                    continue
                ref = mp.digamma(mp.mpf(x) + mp.mpf(h)) - mp.digamma(mp.mpf(x))
                assert rel_err(S.digamma_diff(x, h), ref) < 2e-14, (x, h)


def test_log_beta_and_stirling():
    ps = np.concatenate([np.logspace(-3, 7, 31), [9.999, 10.0, 10.001, 1e6, 3e6]])
    with mp.workdps(DPS):
        for a, b in itertools.product(ps, ps):
            am, bm = mp.mpf(float(a)), mp.mpf(float(b))
            ref = mp.loggamma(am) + mp.loggamma(bm) - mp.loggamma(am + bm)
            # relative for |log B| > 1, absolute otherwise
            assert rel_err(S.log_beta(a, b), ref, 1.0) < 1e-14, (a, b)
        for x in [10.0, 17.5, 300.0, 1e6, 1e12]:
            xm = mp.mpf(x)
            ref = mp.loggamma(xm) - (xm - 0.5) * mp.log(xm) + xm - mp.log(2 * mp.pi) / 2
            assert rel_err(S.stirling_corr(x), ref) < 1e-15
        for t in [-0.999, -0.5, -0.25, -1e-3, -1e-9, 1e-12, 1e-5, 0.1, 0.25, 0.26, 3.0, 1e10]:
            tm = mp.mpf(t)
            assert rel_err(S.rlog1(t), tm - mp.log1p(tm)) < 1e-15
        # log B(1e6, 3e6), whose lgamma terms are ~1e7
        ref = mp.loggamma(1e6) + mp.loggamma(3e6) - mp.loggamma(4e6)
        assert rel_err(S.log_beta(1e6, 3e6), ref) < 4e-16


# ---------------------------------------------------------------------------------------------
# incomplete beta function: values
# ---------------------------------------------------------------------------------------------

XS = [1e-12, 1e-6, 0.01, 0.2, 0.4, 0.5, 0.6, 0.8, 0.99, 1 - 1e-9]
PS = [1e-3, 0.05, 0.5, 1.0, 2.5, 17.0, 300.0, 5e3, 1e5, 1e6]


def _check_log(val, ref, where):
    """Relative error of a log <= 1e-12 where |log| > 1e-3, absolute <= 1e-13 otherwise (and
    <= 1e-15 where the reference is tiny)."""
    ref = mp.mpf(ref)
    if abs(ref) > 1e-3:
        err = rel_err(val, ref)
        assert err <= 1e-12, (where, val, float(ref), err)
    else:
        err = float(abs(mp.mpf(val) - ref))
        assert err <= (1e-13 if abs(ref) > 1e-12 else 1e-15), (where, val, float(ref), err)
    return err


def test_log_betainc_grid():
    """The full 10 x 10 x 10 grid: scipy where it neither underflows nor loses accuracy, mpmath
    (50 digits) for the other ~470 points."""
    n_mp = 0
    worst = 0.0
    for x, a, b in itertools.product(XS, PS, PS):
        li, lj = S.log_betainc_both(x, a, b)
        assert li == S.log_betainc(x, a, b) and lj == S.log_betaincc(x, a, b)
        i_sc, j_sc = sc.betainc(a, b, x), sc.betaincc(a, b, x)
        if i_sc > 1e-290 and j_sc > 1e-290:
            ri = math.log(i_sc) if i_sc < 0.5 else math.log1p(-j_sc)
            rj = math.log(j_sc) if j_sc < 0.5 else math.log1p(-i_sc)
        else:
            with mp.workdps(DPS):
                ri, rj = mp_log_betainc_pair(x, a, b)
            n_mp += 1
        worst = max(worst, _check_log(li, ri, (x, a, b)), _check_log(lj, rj, (x, a, b)))
        assert abs(math.exp(li) + math.exp(lj) - 1.0) < 1e-14
    assert n_mp > 400  # most of the large-parameter points underflow in scipy
    assert worst < 1e-12


def test_log_betainc_underflow_values():
    """Values far below the double range are returned as logs, not 0."""
    with mp.workdps(DPS):
        for x, a, b in [
            (0.2, 1e5, 1e5),
            (0.4, 1e6, 1e6),
            (0.01, 1e-3, 1e6),
            (0.99, 5e3, 1e6),
            (1e-12, 1e6, 1e-3),
            (0.3, 1e7, 1e7),
        ]:
            li, lj = S.log_betainc_both(x, a, b)
            ri, rj = mp_log_betainc_pair(x, a, b)
            assert math.isfinite(li) and math.isfinite(lj)
            _check_log(li, ri, (x, a, b))
            _check_log(lj, rj, (x, a, b))
    assert S.log_betainc(0.2, 1e5, 1e5) == pytest.approx(-44635.221422212753, rel=1e-14)


def test_log_betainc_against_mpmath_betainc():
    """Direct comparison with mpmath.betainc where it is fast (moderate parameters)."""
    rng = np.random.default_rng(3)
    with mp.workdps(DPS):
        for _ in range(60):
            a, b = 10.0 ** rng.uniform(-3, 1.5, 2)
            x = float(rng.uniform(0, 1))
            ref_i = mp.betainc(a, b, 0, x, regularized=True)
            ref_j = mp.betainc(a, b, x, 1, regularized=True)
            li, lj = S.log_betainc_both(x, a, b)
            _check_log(li, mp.log(ref_i), (x, a, b))
            _check_log(lj, mp.log(ref_j), (x, a, b))


def test_log_betainc_near_mode_large():
    """Concentrated betas: a, b up to 1e7 within a few standard deviations of the mode."""
    cases = [
        (5e3, 5e3, (-2.5, -0.4, 0.0, 1.3)),
        (1e5, 3e5, (-2.5, -0.4, 0.0, 1.3)),
        (1e6, 3e6, (-2.5, -0.4, 0.0, 1.3)),
        (1e7, 1e7, (-2.5, 0.0)),
        (2e4, 3e6, (-2.5, -0.4, 0.0, 1.3)),
    ]
    with mp.workdps(DPS):
        for a, b, zs in cases:
            x0 = a / (a + b)
            sd = math.sqrt(a * b / (a + b) ** 3)
            for z in zs:
                x = x0 + z * sd
                li, lj = S.log_betainc_both(x, a, b)
                ri, rj = mp_log_betainc_pair(x, a, b)
                _check_log(li, ri, (x, a, b))
                _check_log(lj, rj, (x, a, b))
    # I_{1/2}(a, a) = 1/2 exactly
    for a in [0.5, 50.0, 1e5, 1e7]:
        assert S.log_betainc(0.5, a, a) == pytest.approx(-math.log(2.0), rel=1e-14)


def test_log_betainc_edges_and_invalid():
    ninf, nan = -math.inf, math.nan
    for a, b in [(1e-3, 2.0), (5.0, 5.0), (1e6, 0.5)]:
        assert S.log_betainc_both(0.0, a, b) == (ninf, 0.0)
        assert S.log_betainc_both(1.0, a, b) == (0.0, ninf)
        g0 = S.log_betainc_with_grad(0.0, a, b)
        assert g0[:3] == (ninf, 0.0, ninf) and g0[4:] == (0.0, 0.0)
        assert g0[3] == pytest.approx(sc.digamma(a + b) - sc.digamma(b), rel=1e-12)
        g1 = S.log_betainc_with_grad(1.0, a, b)
        assert g1[:4] == (0.0, ninf, 0.0, 0.0) and g1[5] == ninf
        assert g1[4] == pytest.approx(sc.digamma(a + b) - sc.digamma(a), rel=1e-12)
        assert S.betainc_grad(0.0, a, b) == (0.0, 0.0)
    for args in [(-0.1, 1.0, 1.0), (1.1, 1.0, 1.0), (0.5, 0.0, 1.0), (0.5, 1.0, -2.0)]:
        assert all(math.isnan(v) for v in S.log_betainc_both(*args))
        assert all(math.isnan(v) for v in S.log_betainc_with_grad(*args))
    assert all(math.isnan(v) for v in S.log_betainc_both(nan, 1.0, 1.0))
    # exact special cases: I_x(a, 1) = x^a, I_x(1, b) = 1 - (1-x)^b
    for x in [1e-300, 1e-9, 0.3, 0.999]:
        for p in [1e-3, 0.7, 40.0]:
            assert S.log_betainc(x, p, 1.0) == pytest.approx(p * math.log(x), rel=1e-14)
            assert S.log_betaincc(x, 1.0, p) == pytest.approx(p * math.log1p(-x), rel=1e-14)


def test_log_betainc_beyond_continued_fraction():
    """min(a, b) ~ 1e10 to 1e15 at the mode, where the continued fraction would need more than
    CF_MAX_ITER steps: the asymptotic fallback agrees with scipy (Boost) there."""
    for a in [1e10, 1e12, 1e15]:
        for dx in [0.0, 3e-7 / math.sqrt(a / 1e12)]:
            x = 0.5 + dx
            li, lj = S.log_betainc_both(x, a, a)
            assert li == pytest.approx(math.log(sc.betainc(a, a, x)), rel=1e-9)
            assert lj == pytest.approx(math.log(sc.betaincc(a, a, x)), rel=1e-9)
            g = S.log_betainc_grad(x, a, a)
            assert all(math.isfinite(v) for v in g)
            assert g[0] < 0 < g[1] and g[2] > 0 > g[3]


@settings(max_examples=300, deadline=None)
@given(
    x=st.floats(0.0, 1.0),
    la=st.floats(-3.0, 7.0),
    lb=st.floats(-3.0, 7.0),
)
def test_log_betainc_complement_property(x, la, lb):
    """exp(log I) + exp(log(1 - I)) = 1, and I decreases in a, increases in b."""
    a, b = 10.0**la, 10.0**lb
    l1 = S.log_betainc(x, a, b)
    l2 = S.log_betaincc(x, a, b)
    assert l1 <= 0.0 and l2 <= 0.0
    assert abs(math.exp(l1) + math.exp(l2) - 1.0) <= 1e-13
    if 0.0 < x < 1.0:
        g = S.log_betainc_grad(x, a, b)
        assert g[0] <= 0.0 <= g[1] and g[2] >= 0.0 >= g[3]


_ANY = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=200, deadline=None)
@given(x=_ANY, a=_ANY, b=_ANY)
def test_no_exceptions_for_any_input(x, a, b):
    """Nothing raises (e.g. ZeroDivisionError) for any float input, including nan and inf."""
    for f1 in (S.log1mexp, S.log_expit, S.log_ndtr, S.norm_logpdf, S.digamma, S.rlog1):
        f1(x)
    for f2 in (S.logaddexp, S.logsubexp, S.log_beta, S.digamma_diff):
        f2(a, b)
    for f3 in (S.log_betainc_both, S.log_betainc_with_grad, S.betainc_grad):
        f3(x, a, b)
    if 0.0 <= x <= 1.0 and 0.0 < a < 1e150 and 0.0 < b < 1e150:
        li, lj = S.log_betainc_both(x, a, b)
        assert not (math.isnan(li) or math.isnan(lj))


# ---------------------------------------------------------------------------------------------
# incomplete beta function: derivatives
# ---------------------------------------------------------------------------------------------

GRAD_CASES = [
    # small parameters (U-shaped and skewed)
    (0.3, 1e-3, 1e-3),
    (0.7, 0.05, 0.5),
    (1e-6, 0.5, 2.5),
    (0.99, 2.5, 0.5),
    (0.5, 1.0, 1.0),
    (0.2, 1.0, 3.0),
    (0.4, 2.0, 5.0),
    (0.01, 1e-3, 17.0),
    (0.99, 17.0, 1e-3),
    (0.8, 2.5, 1e-3),
    (1e-12, 0.05, 0.5),
    # moderate
    (0.2, 17.0, 300.0),
    (0.06, 17.0, 300.0),
    (0.5, 50.0, 50.0),
    (0.45, 50.0, 50.0),
    (0.9, 300.0, 17.0),
    # large, near the mode and in the tails
    (0.5, 5e3, 5e3),
    (0.49, 5e3, 5e3),
    (0.2, 1e5, 1e5),
    (0.4999, 1e5, 1e5),
    (0.2501, 1e5, 3e5),
    (0.25, 1e6, 3e6),
    (0.0052, 5e3, 1e6),
    (3.1e-4, 300.0, 1e6),
    (0.0048, 5e3, 1e6),
    # one tiny, one huge parameter
    (1e-6, 1e-3, 1e6),
    (1e-12, 1e-3, 1e6),
    (1.3e-6, 6.9, 7.5e6),
    (2.7e-6, 1.7, 1.9e6),
    (1e-6, 2.5, 1e6),
    (2e-5, 0.05, 1e5),
    (1 - 1e-9, 1e6, 1e-3),
    (0.999995, 2.6e6, 4.5),
    (0.9998, 1e5, 17.0),
]


def _mp_grad(x, a, b):
    """(∂a lI, ∂b lI, ∂a lJ, ∂b lJ) by mpmath.diff of the 50-digit reference."""
    with mp.workdps(DPS):
        am, bm = mp.mpf(a), mp.mpf(b)
        return (
            mp.diff(lambda t: mp_log_betainc_pair(x, t, bm)[0], am),
            mp.diff(lambda t: mp_log_betainc_pair(x, am, t)[0], bm),
            mp.diff(lambda t: mp_log_betainc_pair(x, t, bm)[1], am),
            mp.diff(lambda t: mp_log_betainc_pair(x, am, t)[1], bm),
        )


@pytest.mark.parametrize(("x", "a", "b"), GRAD_CASES)
def test_log_betainc_grad_against_mpmath_diff(x, a, b):
    ref = _mp_grad(x, a, b)
    got = S.log_betainc_grad(x, a, b)
    full = S.log_betainc_with_grad(x, a, b)
    assert full[2:] == got
    vals = S.log_betainc_both(x, a, b)
    assert full[0] == pytest.approx(vals[0], rel=1e-13, abs=1e-15)
    assert full[1] == pytest.approx(vals[1], rel=1e-13, abs=1e-15)
    for k in range(4):
        assert rel_err(got[k], ref[k]) < 1e-8, (k, got[k], float(ref[k]))
    # (∂I/∂a, ∂I/∂b) = I · ∂ log I
    da, db = S.betainc_grad(x, a, b)
    assert da == pytest.approx(math.exp(vals[0]) * got[0], rel=1e-13)
    assert db == pytest.approx(math.exp(vals[0]) * got[1], rel=1e-13)


def test_betainc_grad_against_central_difference():
    """(∂I/∂a, ∂I/∂b) against a scipy central difference at well-conditioned points."""
    for x, a, b in [(0.3, 2.0, 3.0), (0.6, 0.5, 0.7), (0.45, 40.0, 50.0)]:
        da, db = S.betainc_grad(x, a, b)
        h = 1e-6
        fa = (sc.betainc(a + h, b, x) - sc.betainc(a - h, b, x)) / (2 * h)
        fb = (sc.betainc(a, b + h, x) - sc.betainc(a, b - h, x)) / (2 * h)
        assert da == pytest.approx(fa, rel=1e-7)
        assert db == pytest.approx(fb, rel=1e-7)


# ---------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------


@numba.njit(nogil=True)
def _time_value(xs, a, b, reps):
    acc = 0.0
    for _ in range(reps):
        for x in xs:
            acc += S.log_betainc(x, a, b)
    return acc


@numba.njit(nogil=True)
def _time_grad(xs, a, b, reps):
    acc = 0.0
    for _ in range(reps):
        for x in xs:
            g = S.log_betainc_grad(x, a, b)
            acc += g[0] + g[1] + g[2] + g[3]
    return acc


def _mean_call_time(fun, xs, a, reps):
    fun(xs[:2], a, a, 1)  # compile
    t0 = time.perf_counter()
    fun(xs, a, a, reps)
    return (time.perf_counter() - t0) / (reps * xs.size)


def test_timing(capsys):
    """Mean time per call over x spread over ±3 standard deviations around the mode."""
    lines = []
    for a in [50.0, 1e5]:
        sd = math.sqrt(0.125 / (2 * a + 1))
        xs = 0.5 + sd * np.linspace(-3.0, 3.0, 601)
        tv = _mean_call_time(_time_value, xs, a, 20)
        tg = _mean_call_time(_time_grad, xs, a, 10)
        mode = np.array([0.5])
        tv0 = _mean_call_time(_time_value, mode, a, 2000)
        tg0 = _mean_call_time(_time_grad, mode, a, 1000)
        lines.append(
            f"a = b = {a:g}: log_betainc {tv * 1e6:.2f} us, log_betainc_grad {tg * 1e6:.2f} us "
            f"(at the mode {tv0 * 1e6:.2f} us, {tg0 * 1e6:.2f} us)"
        )
        # generous bounds: only catch pathological slow-downs (e.g. iteration caps being hit)
        assert tv < 50e-6 and tg < 100e-6
    with capsys.disabled():
        print("\n" + "\n".join(lines))


@pytest.mark.parametrize("tiny", [1e-15, 1e-10, 1e-6, 1e-4])
@pytest.mark.parametrize("other", [0.5, 1.89, 5.0])
@pytest.mark.parametrize("x", [0.2, 0.6])
@pytest.mark.parametrize("swap", [False, True])
def test_betainc_small_parameter_side(tiny, other, x, swap):
    """For a (or b) ≤ 1e-3 the side of I_x(a, b) within ~a of 1 has its small complement summed
    directly: log of the complement and its derivatives to full precision (mpmath, 60 digits)."""
    a, b, xx = (other, tiny, 1.0 - x) if swap else (tiny, other, x)
    li, lj, dia, dib, dja, djb = S.log_betainc_with_grad(xx, a, b)
    with mp.workdps(60):
        A, B, X = mp.mpf(a), mp.mpf(b), mp.mpf(xx)

        def small(s, t):  # log of the side that is small: 1 − I (tiny a) or I (tiny b)
            if swap:
                return mp.log(mp.betainc(s, t, 0, X, regularized=True))
            return mp.log(mp.betainc(s, t, X, 1, regularized=True))

        want = small(A, B)
        want_a = mp.diff(lambda s: small(s, B), A)
        want_b = mp.diff(lambda t: small(A, t), B)
    got, got_a, got_b = (li, dia, dib) if swap else (lj, dja, djb)
    assert abs(got - float(want)) <= 1e-13 * abs(float(want))
    assert abs(got_a - float(want_a)) <= 1e-10 * abs(float(want_a))
    assert abs(got_b - float(want_b)) <= 1e-10 * abs(float(want_b))
    assert abs(math.exp(li) + math.exp(lj) - 1.0) <= 1e-15
