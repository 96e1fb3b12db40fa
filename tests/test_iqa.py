"""MOS-level IQA measures (ratingdist.evaluation.iqa): correlations against scipy and direct
counts, the logistic and monotone-cubic mappings, the P.1401 statistics and the bootstrap."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special, stats

from ratingdist import qoe
from ratingdist.evaluation import iqa


def sigmoid_data(n: int = 200, seed: int = 0, noise: float = 0.1):
    """Predictions on [0, 100] and a MOS that saturates at both ends."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, n)
    return x, 1 + 4 * special.expit((x - 55) / 8) + rng.normal(0, noise, n)


def ref_tau_b(x, y):
    """Kendall τ-b by counting pairs."""
    concordant = discordant = tied_x = tied_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        sign = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
        concordant += sign > 0
        discordant += sign < 0
        tied_x += x[i] == x[j]
        tied_y += y[i] == y[j]
    pairs = len(x) * (len(x) - 1) / 2
    return (concordant - discordant) / math.sqrt((pairs - tied_x) * (pairs - tied_y))


# -- correlations ----------------------------------------------------------------------------
vectors = st.integers(3, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.floats(-10, 10), min_size=n, max_size=n),
    )
)


@settings(max_examples=150, deadline=None)
@given(vectors)
def test_correlations_match_scipy_and_pair_counts(data):
    x, y = np.array(data[0], float), np.array(data[1])  # ties in x, and in y at times
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        expected = {
            "srcc": stats.spearmanr(x, y).statistic,
            "krcc": stats.kendalltau(x, y, variant="b").statistic,
            "plcc": stats.pearsonr(x, y).statistic,
        }
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        for name in expected:
            assert math.isnan(getattr(iqa, name)(x, y)), name
        return
    for name, value in expected.items():
        assert getattr(iqa, name)(x, y) == pytest.approx(value, rel=1e-10, abs=1e-12), name
    assert iqa.krcc(x, y) == pytest.approx(ref_tau_b(x, y), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        # found by hypothesis: products of deviations of 6.6e-266 underflow to 0
        ([0, 0, 0, 1], [0, 0, 6.6e-266, 0], -1 / 3),
        # near-constant: deviations of one ulp, exact value 2.5/√13.75
        ([1, 1 + 2**-52, 1, 1 + 2**-51], [1, 2, 3, 4], 2.5 / math.sqrt(13.75)),
        # subnormal x, the same data as [1, 0, 0, 2]
        ([5e-324, 0, 0, 1e-323], [1, 2, 3, 4], 1.5 / math.sqrt(13.75)),
        # huge values whose sum overflows
        ([1, 2, 3, 4], [1e308, -1e308, 1e308, 0.0], stats.pearsonr([1, 2, 3, 4], [1, -1, 1, 0])[0]),
    ],
)
def test_plcc_is_exact_for_subnormal_huge_and_near_constant_input(x, y, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert iqa.plcc(x, y) == pytest.approx(expected, rel=1e-13)
        assert iqa.plcc(y, x) == pytest.approx(expected, rel=1e-13)
        assert iqa.srcc(x, y) == pytest.approx(stats.spearmanr(x, y)[0], rel=1e-12)


def test_constant_input_gives_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (iqa.srcc, iqa.krcc, iqa.plcc):
            assert math.isnan(f([1, 2, 3, 4], [2.0, 2.0, 2.0, 2.0]))
            assert math.isnan(f([0.1, 0.1, 0.1], [1, 2, 3]))


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([1, 2], [1, 2], "need at least 3 stimuli, got 2"),
        ([1, 2, 3], [1, 2, 3, 4], "x has 3 values but y has 4"),
        ([1, 2, np.inf, 4], [1, 2, 3, 4], r"x\[2\] is inf; values must be finite"),
        ([1, 2, 3], [1, np.nan, 3], r"y\[1\] is nan"),
        ([[1, 2, 3]], [1, 2, 3], r"x must be 1-D \(one value per stimulus\), got shape \(1, 3\)"),
    ],
)
def test_invalid_inputs(x, y, message):
    with pytest.raises(ValueError, match=message):
        iqa.srcc(x, y)


def test_invalid_mappings():
    x, y = sigmoid_data(20)
    with pytest.raises(ValueError, match="unknown mapping 'cubic'"):
        iqa.plcc(x, y, mapping="cubic")
    with pytest.raises(ValueError, match="need at least 6 stimuli for the logistic5 mapping"):
        iqa.rmse(x[:5], y[:5], mapping="logistic5")
    with pytest.raises(ValueError, match="x is constant"):
        iqa.fit_mapping(np.ones(10), y[:10], "poly3")
    with pytest.raises(ValueError, match=r"ci95\[1\] is -0.1; half-widths must be >= 0"):
        iqa.outlier_ratio(x[:3], y[:3], [0.1, -0.1, 0.1])
    with pytest.raises(ValueError, match="ci95 has 2 values but x and y have 3"):
        iqa.epsilon_rmse(x[:3], y[:3], [0.1, 0.1])


# -- logistic mappings -----------------------------------------------------------------------
@pytest.mark.parametrize("x_scale", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("true", [[5.0, 1.0, 0.55, 0.08], [1.5, 4.5, 0.3, 0.15]])
def test_logistic4_recovers_its_parameters(true, x_scale):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 400)
    y = (true[0] - true[1]) / (1 + np.exp(-(x - true[2]) / true[3])) + true[1]
    y += rng.normal(0, 0.02, len(x))
    f = iqa.fit_mapping(x * x_scale, y, "logistic4")
    expected = np.array(true) * [1, 1, x_scale, x_scale]
    np.testing.assert_allclose(f.params, expected, rtol=0.03, atol=0.03 * x_scale)
    assert f.kind == "logistic4" and f.n_params == 4


@pytest.mark.parametrize("x_scale", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("true", [[3.0, 10.0, 0.5, 0.5, 1.5], [-3.0, 8.0, 0.3, 0.5, 3.0]])
def test_logistic5_recovers_its_parameters(true, x_scale):
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, 400)
    b1, b2, b3, b4, b5 = true
    y = b1 * (0.5 - 1 / (1 + np.exp(b2 * (x - b3)))) + b4 * x + b5 + rng.normal(0, 0.005, 400)
    f = iqa.fit_mapping(x * x_scale, y, "logistic5")
    expected = np.array(true) * [1, 1 / x_scale, x_scale, 1 / x_scale, 1]
    np.testing.assert_allclose(f.params, expected, rtol=0.03)
    np.testing.assert_allclose(f(x * x_scale), y, atol=0.03)


# -- the monotone cubic ----------------------------------------------------------------------
def derivative_on_range(f: iqa.FittedMapping, x: np.ndarray) -> np.ndarray:
    grid = np.linspace(x.min(), x.max(), 2001)
    return np.polynomial.polynomial.polyval(grid, np.polynomial.polynomial.polyder(f.params))


def relaxed_monotone_cubic_rss(x, y, sign):
    """Least squares with f' >= 0 (sign = 1) or <= 0 at 2001 points: a relaxation by SLSQP."""
    centre, half = (x.max() + x.min()) / 2, np.ptp(x) / 2
    t = (x - centre) / half
    grid = np.linspace(-1, 1, 2001)
    slopes = sign * np.column_stack([np.zeros_like(grid), np.ones_like(grid), 2 * grid,
                                     3 * grid**2])
    design = np.vander(t, 4, increasing=True)
    start = np.linalg.lstsq(design, y, rcond=None)[0] * [1, 1, 0, 0]
    result = optimize.minimize(
        lambda b: ((design @ b - y) ** 2).sum(),
        start,
        jac=lambda b: 2 * design.T @ (design @ b - y),
        constraints=[optimize.LinearConstraint(slopes, lb=0)],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    return result.fun


def rss(f, x, y):
    return float(((y - f(x)) ** 2).sum())


@pytest.mark.parametrize("seed", range(6))
def test_poly3_is_monotone_where_the_free_cubic_is_not(seed):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 10, 60))
    y = np.minimum(x, 4.0 + seed / 3) + rng.normal(0, 0.2, 60)  # a plateau: the free cubic turns
    if seed % 2:
        x = 20 - x  # decreasing relation
    free = np.polynomial.Polynomial.fit(x, y, 3)
    free_slopes = free.deriv()(np.linspace(x.min(), x.max(), 2001))
    assert free_slopes.min() < 0 < free_slopes.max()
    f = iqa.fit_mapping(x, y, "poly3")
    slopes = derivative_on_range(f, x)
    scale = np.abs(slopes).max()
    assert (slopes >= -1e-9 * scale).all() if seed % 2 == 0 else (slopes <= 1e-9 * scale).all()
    # optimal: no worse than the grid relaxation, which is a lower bound of the true optimum
    relaxed = relaxed_monotone_cubic_rss(x, y, 1 if seed % 2 == 0 else -1)
    assert rss(f, x, y) <= relaxed * (1 + 1e-4) + 1e-10
    assert rss(f, x, y) >= relaxed * (1 - 1e-4) - 1e-10


def test_poly3_reproduces_a_monotone_cubic():
    x = np.linspace(-2, 5, 40)
    coef = [1.0, 0.8, -0.3, 0.05]  # f' = 0.8 − 0.6x + 0.15x² > 0
    y = np.polynomial.polynomial.polyval(x, coef)
    np.testing.assert_allclose(iqa.fit_mapping(x, y, "poly3").params, coef, atol=1e-8)
    np.testing.assert_allclose(iqa.fit_mapping(x, -y, "poly3").params, -np.array(coef), atol=1e-8)
    f = iqa.fit_mapping(x, np.full_like(x, 3.0), "poly3")
    np.testing.assert_allclose(f(x), 3.0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["poly3", "logistic4"]))
def test_mapped_plcc_is_at_least_the_raw_plcc_on_monotone_data(seed, kind):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, 50)
    y = np.exp(3 * x) + rng.normal(0, 0.5, 50)  # monotone, not linear
    raw, mapped = iqa.plcc(x, y), iqa.plcc(x, y, mapping=kind)
    assert mapped >= raw - 1e-9
    if kind == "poly3":  # the monotone cubic contains the affine maps
        assert mapped**2 == pytest.approx(1 - rss(iqa.fit_mapping(x, y, kind), x, y)
                                          / ((y - y.mean()) ** 2).sum(), rel=1e-6)


def test_mapping_helps_on_sigmoid_data():
    x, y = sigmoid_data()
    raw = iqa.plcc(x, y)
    for kind in iqa.MAPPINGS:
        assert iqa.plcc(x, y, mapping=kind) > raw + 0.01, kind
        assert iqa.rmse(x, y, mapping=kind) < iqa.rmse(np.polyval(np.polyfit(x, y, 1), x), y)
    assert iqa.plcc(x, y, mapping="logistic4") > 0.99


# -- P.1401 errors ---------------------------------------------------------------------------
def test_rmse_divisor_is_n_minus_d():
    x, y = sigmoid_data(30)
    assert iqa.rmse(x, y) == pytest.approx(math.sqrt(np.mean((y - x) ** 2)))
    for kind, d in iqa.MAPPINGS.items():
        f = iqa.fit_mapping(x, y, kind)
        assert iqa.rmse(x, y, mapping=kind) == pytest.approx(math.sqrt(rss(f, x, y) / (30 - d)))


def test_epsilon_rmse_and_outlier_ratio_by_hand():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    y = [1.5, 2.0, 2.0, 4.5, 7.0]  # errors 0.5, 0, −1, 0.5, 2 (exact in binary)
    ci = [0.25, 0.125, 1.5, 0.5, 0.5]
    # excess over the half-widths: 0.25, 0, 0, 0, 1.5
    assert iqa.epsilon_rmse(x, y, ci) == pytest.approx(math.sqrt((0.25**2 + 1.5**2) / 5))
    assert iqa.outlier_ratio(x, y, ci) == 2 / 5  # |error| = ci (0.5 at x = 4) is no outlier
    assert iqa.rmse(x, y) == pytest.approx(math.sqrt((0.25 + 1 + 0.25 + 4) / 5))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([None, "poly3"]))
def test_epsilon_rmse_is_at_most_rmse(seed, mapping):
    rng = np.random.default_rng(seed)
    x, y = sigmoid_data(20, seed=seed, noise=0.3)
    ci = rng.uniform(0, 0.5, 20)
    assert iqa.epsilon_rmse(x, y, ci, mapping) <= iqa.rmse(x, y, mapping) + 1e-12
    assert iqa.epsilon_rmse(x, y, np.zeros(20), mapping) == pytest.approx(iqa.rmse(x, y, mapping))
    assert iqa.outlier_ratio(x, y, np.zeros(20), mapping) == 1.0
    assert iqa.outlier_ratio(x, y, np.full(20, 1e6), mapping) == 0.0


# -- bootstrap -------------------------------------------------------------------------------
def test_bootstrap_ci_is_seeded_and_contains_the_estimate():
    x, y = sigmoid_data(80, noise=0.8)
    ci = iqa.bootstrap_ci(iqa.srcc, x, y, n_boot=500, seed=5)
    assert list(ci.index) == ["estimate", "lower", "upper"]
    assert ci.estimate == iqa.srcc(x, y)
    assert ci.lower < ci.estimate < ci.upper
    assert ci.equals(iqa.bootstrap_ci(iqa.srcc, x, y, n_boot=500, seed=5))
    assert not ci.equals(iqa.bootstrap_ci(iqa.srcc, x, y, n_boot=500, seed=6))
    narrow = iqa.bootstrap_ci(iqa.srcc, x, y, n_boot=500, level=0.5, seed=5)
    assert ci.lower < narrow.lower < narrow.upper < ci.upper


def test_bootstrap_ci_agrees_with_scipy_percentile_bootstrap():
    x, y = sigmoid_data(150, noise=0.8)
    ours = iqa.bootstrap_ci(iqa.plcc, x, y, n_boot=4000, seed=0)
    theirs = stats.bootstrap(
        (x, y), iqa.plcc, paired=True, vectorized=False, n_resamples=4000,
        method="percentile", rng=np.random.default_rng(1),
    ).confidence_interval
    assert ours.lower == pytest.approx(theirs.low, abs=0.01)
    assert ours.upper == pytest.approx(theirs.high, abs=0.01)


def test_bootstrap_resamples_stimuli_in_pairs_and_skips_nan():
    x = np.arange(10.0)
    paired = iqa.bootstrap_ci(lambda a, b, c: float(np.all(b == 2 * a) and np.all(c == a + 1)),
                              x, 2 * x, x + 1, n_boot=50)
    assert paired.to_dict() == {"estimate": 1.0, "lower": 1.0, "upper": 1.0}
    # a metric that is NaN on some replicates: those are left out
    partial = iqa.bootstrap_ci(lambda a, b: np.nan if a[0] < 5 else 1.0, x, x, n_boot=50)
    assert (partial.lower, partial.upper) == (1.0, 1.0)
    with pytest.raises(ValueError, match="n_boot must be an integer >= 1"):
        iqa.bootstrap_ci(iqa.srcc, x, x, n_boot=0)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        iqa.bootstrap_ci(iqa.srcc, x, x, level=95)
    with pytest.raises(ValueError, match="the arrays differ in length"):
        iqa.bootstrap_ci(iqa.srcc, x, x[:-1])


def test_correlations_table():
    x, y = sigmoid_data(60, noise=0.4)
    ci = np.full(60, 0.3)
    table = iqa.correlations(x, y, ci95=ci, mapping="logistic4", n_boot=200, seed=2)
    assert table.index.tolist() == ["srcc", "krcc", "plcc", "rmse", "epsilon_rmse",
                                    "outlier_ratio"]
    expected = [iqa.srcc(x, y), iqa.krcc(x, y), iqa.plcc(x, y, "logistic4"),
                iqa.rmse(x, y, "logistic4"), iqa.epsilon_rmse(x, y, ci, "logistic4"),
                iqa.outlier_ratio(x, y, ci, "logistic4")]
    np.testing.assert_allclose(table.estimate, expected, rtol=1e-12)
    assert ((table.lower <= table.estimate) & (table.estimate <= table.upper)).all()
    assert table.equals(iqa.correlations(x, y, ci95=ci, mapping="logistic4", n_boot=200, seed=2))
    # the same replicates as bootstrap_ci
    alone = iqa.bootstrap_ci(iqa.srcc, x, y, n_boot=200, seed=2)
    assert (table.loc["srcc", "lower"], table.loc["srcc", "upper"]) == (alone.lower, alone.upper)
    bare = iqa.correlations(x, y, n_boot=0)
    assert bare.index.tolist() == ["srcc", "krcc", "plcc", "rmse"]
    assert bare.lower.isna().all() and bare.upper.isna().all()


# -- real data -------------------------------------------------------------------------------
@pytest.mark.data
def test_koniq_subsampled_mos_as_predictor(koniq):
    """A 'predictor' that averages 5 of each image's ratings, scored against the full MOS."""
    rng = np.random.default_rng(0)
    counts = koniq[rng.choice(len(koniq), 1500, replace=False)]
    sub = np.vstack([rng.multivariate_hypergeometric(row, 5) for row in counts.counts])
    x = sub @ np.arange(1, 6) / 5
    y = qoe.mos(counts)
    r = counts.n_ratings
    ci95 = stats.t.ppf(0.975, r - 1) * qoe.sos(counts) / np.sqrt(r)
    assert iqa.srcc(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)
    assert iqa.krcc(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, rel=1e-12)
    assert 0.6 < iqa.srcc(x, y) < 0.95
    f = iqa.fit_mapping(x, y, "poly3")
    assert (derivative_on_range(f, x) >= -1e-9).all()
    assert iqa.plcc(x, y, "poly3") >= iqa.plcc(x, y) - 1e-12
    assert iqa.epsilon_rmse(x, y, ci95, "poly3") < iqa.rmse(x, y, "poly3")
    ratio = iqa.outlier_ratio(x, y, ci95, "poly3")
    assert 0.2 < ratio < 0.9
    table = iqa.correlations(x, y, ci95, mapping="poly3", n_boot=30, seed=0)
    assert table.loc["outlier_ratio", "estimate"] == ratio


def test_bootstrap_skips_resamples_where_a_mapping_cannot_be_fitted():
    x = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0])
    y = np.arange(1.0, 9.0)
    table = iqa.correlations(x, y, mapping="poly3", n_boot=60, seed=1)
    assert np.isfinite(table[["lower", "upper"]].to_numpy()).all()
    ci = iqa.bootstrap_ci(lambda a, b: iqa.plcc(a, b, "logistic4"), x, y, n_boot=60, seed=1)
    assert np.isfinite([ci.lower, ci.upper]).all()


@pytest.mark.parametrize("kind", ["logistic4", "logistic5", "poly3"])
@pytest.mark.parametrize(("x_exp", "y_exp"), [(-900, 0), (0, 900), (-1000, -1000), (1000, -600)])
def test_mappings_are_exact_under_binary_scaling(kind, x_exp, y_exp):
    """Scaling x and y by powers of two (subnormal x included) scales the fit exactly."""
    x, y = sigmoid_data(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled_x, scaled_y = np.ldexp(x, x_exp), np.ldexp(y, y_exp)
        exact = np.ldexp(scaled_x, -x_exp)  # x itself, less the bits lost as a subnormal
        assert iqa.plcc(scaled_x, scaled_y, kind) == pytest.approx(
            iqa.plcc(exact, y, kind), rel=1e-12)
        assert iqa.rmse(scaled_x, scaled_y, kind) == pytest.approx(
            np.ldexp(iqa.rmse(exact, y, kind), y_exp), rel=1e-12)
