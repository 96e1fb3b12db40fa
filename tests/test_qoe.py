"""QoE figures, quantiles and confidence intervals (ratingdist.qoe)."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.proportion import proportion_confint

import ratingdist as rd
from ratingdist import qoe
from ratingdist._kernels.bootstrap import resample_counts

QUANTIZED = ("normal", "logistic", "beta", "kumaraswamy", "logit-logistic")
#: KonIQ-10k image 10004473376.jpg (notes.md §1.5).
EXAMPLE = [[0, 0, 25, 73, 7]]
#: The median logit-logistic fit of VQEG-HDTV (24 ratings per video, μ = 0.553, s = 0.376):
#: the simulation truth, in native (logit_mu, s).
TRUTH_FAMILY, PANEL = "logit-logistic", 24
TRUTH_PARAMS = rd.family(TRUTH_FAMILY).from_reference_params([0.553, 0.376]).tolist()


def ratings_of(counts: np.ndarray) -> list[np.ndarray]:
    """The individual ratings of every stimulus."""
    k = np.arange(1, counts.shape[1] + 1)
    return [np.repeat(k, row) for row in counts]


def random_counts(n: int = 300, K: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.multinomial(rng.integers(2, 60, n), rng.dirichlet(np.full(K, 0.7), n))


@pytest.fixture(scope="module")
def koniq_subset(koniq):
    rows = np.random.default_rng(0).choice(len(koniq), 300, replace=False)
    return koniq[rows]


# -- MOS, SOS, %GoB, %PoW -----------------------------------------------------------------------
def check_figures_against_ratings(counts: np.ndarray) -> None:
    ratings = ratings_of(counts)
    np.testing.assert_allclose(qoe.mos(counts), [r.mean() for r in ratings], rtol=1e-14)
    np.testing.assert_allclose(qoe.sos(counts), [r.std(ddof=1) for r in ratings], rtol=1e-12)
    np.testing.assert_allclose(qoe.sos(counts, ddof=0), [r.std() for r in ratings], rtol=1e-12)
    K = counts.shape[1]
    np.testing.assert_allclose(qoe.gob(counts), [np.mean(r >= K - 1) for r in ratings])
    np.testing.assert_allclose(qoe.pow(counts), [np.mean(r <= 2) for r in ratings])
    np.testing.assert_allclose(qoe.gob(counts, good=3), [np.mean(r >= 3) for r in ratings])
    np.testing.assert_allclose(qoe.pow(counts, poor=1), [np.mean(r <= 1) for r in ratings])
    np.testing.assert_allclose(qoe.prob(counts, [1, 3]), [np.mean((r == 1) | (r == 3))
                                                          for r in ratings])


def test_figures_match_the_ratings():
    check_figures_against_ratings(random_counts())
    check_figures_against_ratings(random_counts(K=7, seed=1))


@pytest.mark.data
def test_figures_match_the_ratings_on_koniq(koniq_subset):
    check_figures_against_ratings(koniq_subset.counts)


def test_figures_of_a_fit_are_those_of_the_fitted_pmf():
    res = rd.fit(random_counts(50), "gsd")
    p, k = res.probs, np.arange(1, 6)
    mean = p @ k
    np.testing.assert_allclose(qoe.mos(res), mean, rtol=1e-13)
    np.testing.assert_allclose(qoe.sos(res), np.sqrt(p @ k**2 - mean**2), rtol=1e-10)
    np.testing.assert_allclose(qoe.gob(res), p[:, 3:].sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(qoe.pow(res), p[:, :2].sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(qoe.probabilities(res), p / p.sum(axis=1, keepdims=True))


def test_acceptability_takes_one_threshold_per_stimulus():
    counts = np.array([[1, 2, 3, 4, 0], [0, 0, 1, 1, 2]])
    np.testing.assert_allclose(qoe.acceptability(counts, [2, 4.5]), [0.9, 0.5])
    np.testing.assert_allclose(qoe.acceptability(counts, 3.5), [0.4, 0.75])
    with pytest.raises(ValueError, match="theta"):
        qoe.acceptability(counts, [1, 2, 3])


def test_sos_of_a_single_rating_is_nan():
    assert np.isnan(qoe.sos([[0, 1, 0]])[0])
    assert qoe.sos([[0, 1, 0]], ddof=0)[0] == 0


def test_prob_rejects_categories_off_the_scale():
    with pytest.raises(ValueError, match="categories"):
        qoe.prob(EXAMPLE, [0, 1])
    with pytest.raises(ValueError, match="categories"):
        qoe.prob(EXAMPLE, [])


# -- latent quantiles ----------------------------------------------------------------------------
def kumaraswamy_cdf(x, a, b):
    return 1 - (1 - x**a) ** b


def logit_logistic_cdf(x, mu, s):
    with np.errstate(over="ignore"):
        return 1 / (1 + (mu * (1 - x) / (x * (1 - mu))) ** (1 / s))


def reference_quantile(name: str, params: np.ndarray, alpha: float, K: int = 5) -> float:
    """F⁻¹(α) on the rating axis from scipy.stats or by root finding on the cdf formula."""
    p1, p2 = params
    if name == "normal":
        return stats.norm(p1, p2).ppf(alpha)
    if name == "logistic":
        return stats.logistic(p1, p2).ppf(alpha)
    if name == "beta":
        return 0.5 + K * stats.beta(p1, p2).ppf(alpha)
    cdf = kumaraswamy_cdf if name == "kumaraswamy" else logit_logistic_cdf
    x = optimize.brentq(lambda t: cdf(t, p1, p2) - alpha, 1e-300, 1 - 1e-16, xtol=1e-15,
                        rtol=4 * np.finfo(float).eps)
    return 0.5 + K * x


@pytest.mark.data
@pytest.mark.parametrize("name", QUANTIZED)
def test_latent_quantiles_match_scipy_and_root_finding(name, koniq_subset):
    res = rd.fit(koniq_subset, name)
    rows = np.flatnonzero(~res.limit)
    assert len(rows) > 250
    alphas = np.random.default_rng(1).uniform(0.005, 0.995, len(res))
    for alpha in (0.01, 0.1, 0.5, 0.9, 0.99, alphas):
        ours = qoe.quantile(res, alpha)
        a = np.broadcast_to(alpha, (len(res),))
        ref = res.family.reference_params(res.params)  # logit-logistic: (μ, s)
        expected = [reference_quantile(name, ref[i], a[i]) for i in rows]
        np.testing.assert_allclose(ours[rows], expected, rtol=0, atol=1e-10)


@pytest.mark.data
@pytest.mark.parametrize("name", QUANTIZED)
def test_share_reaching_inverts_level_reached_by(name, koniq):
    res = rd.fit(koniq, name)
    share = np.random.default_rng(2).uniform(0.001, 0.999, len(koniq))
    back = qoe.share_reaching(res, qoe.level_reached_by(res, share))
    np.testing.assert_allclose(back[~res.limit], share[~res.limit], rtol=0, atol=1e-12)
    np.testing.assert_allclose(qoe.level_reached_by(res, share), qoe.quantile(res, 1 - share))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("normal", [3.25, 3.82, 4.40]), ("logistic", [3.25, 3.81, 4.36]),
     ("beta", [3.23, 3.85, 4.41]), ("logit-logistic", [3.21, 3.85, 4.38])],
)
def test_worked_example_of_the_notes(name, expected):
    res = rd.fit(EXAMPLE, name)
    ours = [qoe.quantile(res, a)[0] for a in (0.1, 0.5, 0.9)]
    np.testing.assert_allclose(ours, expected, atol=0.01)
    np.testing.assert_allclose(qoe.level_reached_by(res, 0.9), ours[0])


def test_category_quantiles_of_the_worked_example():
    assert [qoe.quantile(EXAMPLE, a, kind="category")[0] for a in (0.1, 0.5, 0.9)] == [3, 4, 4]
    assert [qoe.level_reached_by(EXAMPLE, s, kind="category")[0] for s in (0.9, 0.5)] == [3, 4]


def test_category_level_reached_by_is_the_best_level_a_share_reaches():
    counts = random_counts(500, seed=3)
    share = np.random.default_rng(4).uniform(0, 1, 500)
    level = qoe.level_reached_by(counts, share, kind="category")
    reached = qoe.share_reaching(counts, level, kind="category")
    assert np.all(reached >= share - 1e-12)
    above = qoe.share_reaching(counts, level + 1, kind="category")
    assert np.all((above < share) | (level == 5))
    # 10 % rate 1, 90 % rate 2: 90 % reach 2, whereas Q_0.1 = min{k : F(k) >= 0.1} = 1
    assert qoe.level_reached_by([[1, 9, 0]], 0.9, kind="category")[0] == 2
    assert qoe.quantile([[1, 9, 0]], 0.1, kind="category")[0] == 1


def test_category_quantiles_of_a_discrete_fit_use_its_pmf():
    res = rd.fit(random_counts(100, seed=5), "gsd")
    cdf = np.cumsum(res.probs, axis=1)
    expected = [np.argmax(row >= 0.3 - 1e-12) + 1 for row in cdf]
    np.testing.assert_array_equal(qoe.quantile(res, 0.3, kind="category"), expected)


def test_quantiles_without_a_latent_variable_need_kind_category():
    with pytest.raises(ValueError, match="kind='category'"):
        qoe.quantile(EXAMPLE, 0.1)
    with pytest.raises(ValueError, match="the maxent family has no continuous latent"):
        qoe.level_reached_by(rd.fit(EXAMPLE, "maxent"), 0.9, kind="latent")
    with pytest.raises(ValueError, match="kind must be one of"):
        qoe.quantile(rd.fit(EXAMPLE, "normal"), 0.1, kind="discrete")
    with pytest.raises(ValueError, match="alpha must lie in"):
        qoe.quantile(rd.fit(EXAMPLE, "normal"), 1.5)
    with pytest.raises(ValueError, match="shape"):
        qoe.quantile(rd.fit(EXAMPLE, "normal"), [0.1, 0.2])


@pytest.mark.parametrize("name", QUANTIZED)
def test_limit_fits_have_the_quantiles_of_the_limit(name):
    res = rd.fit([[0, 0, 10, 0, 0], [0, 0, 5, 5, 0], [3, 0, 0, 0, 7]], name)
    assert res.limit.all()
    low, high = (0.5, 5.5) if name in ("beta", "kumaraswamy", "logit-logistic") else (-np.inf,
                                                                                     np.inf)
    np.testing.assert_array_equal(qoe.quantile(res, 0.1), [3, 3.5, low])
    np.testing.assert_array_equal(qoe.quantile(res, 0.9), [3, 3.5, high])
    np.testing.assert_allclose(qoe.share_reaching(res, 3.2), [0, 1, 0.7])
    np.testing.assert_allclose(qoe.share_reaching(res, 2.9), [1, 1, 0.7])


# -- analytic intervals --------------------------------------------------------------------------
@pytest.mark.data
def test_mos_ci_is_the_student_t_interval(koniq_subset):
    counts = koniq_subset.counts
    table = qoe.mos_ci(koniq_subset, level=0.9)
    for row, r in zip(table.itertuples(), ratings_of(counts)):
        lo, hi = stats.t.interval(0.9, len(r) - 1, loc=r.mean(), scale=stats.sem(r))
        assert row.lower == pytest.approx(lo, abs=1e-12)
        assert row.upper == pytest.approx(hi, abs=1e-12)
    assert list(table.columns) == ["id", "estimate", "lower", "upper"]
    assert table["id"].tolist() == koniq_subset.ids.tolist()


def test_mos_ci_of_one_rating_is_the_scale_and_intervals_stay_on_it():
    table = qoe.mos_ci([[0, 1, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 3]])
    assert table[["lower", "upper"]].to_numpy().tolist() == [[1, 5], [1, 5], [5, 5]]
    with pytest.raises(TypeError, match="counts"):
        qoe.mos_ci(rd.fit(EXAMPLE, "normal"))


@pytest.mark.parametrize(("method", "theirs"), [("wilson", "wilson"), ("wald", "normal")])
def test_proportion_intervals_match_statsmodels(method, theirs):
    counts = random_counts(200, seed=6)
    table = qoe.gob_ci(counts, level=0.9, method=method)
    good = counts[:, 3:].sum(axis=1)
    lo, hi = proportion_confint(good, counts.sum(axis=1), alpha=0.1, method=theirs)
    np.testing.assert_allclose(table["lower"], np.clip(lo, 0, 1), atol=1e-12)
    np.testing.assert_allclose(table["upper"], np.clip(hi, 0, 1), atol=1e-12)
    poor = qoe.pow_ci(counts, method=method)
    np.testing.assert_allclose(poor["estimate"], qoe.pow(counts))
    np.testing.assert_allclose(qoe.prob_ci(counts, [1, 2], method=method), poor)


def sos_regression(x):
    """(a, se) of SOS² on v_max through the origin, by numpy lstsq and statsmodels."""
    v = (qoe.mos(x) - 1) * (5 - qoe.mos(x))
    s2 = qoe.sos(x) ** 2
    a = np.linalg.lstsq(v[:, None], s2, rcond=None)[0][0]
    return a, OLS(s2, v).fit().bse[0]


@pytest.mark.data
def test_sos_parameter_is_the_least_squares_fit_and_scale_invariant(koniq):
    table = qoe.sos_hypothesis(koniq, level=0.95)
    a, se = sos_regression(koniq)
    assert table["a"] == pytest.approx(a, rel=1e-12)
    assert table["se"] == pytest.approx(se, rel=1e-10)
    half = stats.t.ppf(0.975, len(koniq) - 1) * se
    assert (table["lower"], table["upper"]) == pytest.approx((a - half, a + half), rel=1e-10)
    # on normalized scores z = (u − 1)/4: SOS_z² = a·z̄(1 − z̄) with the same a
    z_mean, z_var = (qoe.mos(koniq) - 1) / 4, qoe.sos(koniq) ** 2 / 16
    v_z = z_mean * (1 - z_mean)
    assert np.linalg.lstsq(v_z[:, None], z_var, rcond=None)[0][0] == pytest.approx(a, rel=1e-12)
    assert 0 < a < 0.25


def test_sos_hypothesis_bootstrap_over_stimuli():
    counts = random_counts(400, seed=7)
    ols = qoe.sos_hypothesis(counts)
    boot = qoe.sos_hypothesis(counts, method="bootstrap", n_boot=500, seed=1)
    assert boot["a"] == ols["a"]
    assert boot["lower"] < boot["a"] < boot["upper"]
    assert 0.5 < boot["se"] / ols["se"] < 2
    assert boot.equals(qoe.sos_hypothesis(counts, method="bootstrap", n_boot=500, seed=1))
    with_single = np.vstack([counts, [[0, 0, 1, 0, 0]]])  # no sample SOS: left out
    assert qoe.sos_hypothesis(with_single)["n_stimuli"] == 400
    assert qoe.sos_hypothesis(with_single)["a"] == ols["a"]


# -- the resampler -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("probs", "n"),
    [([0.1, 0.2, 0.3, 0.25, 0.15], 51), ([0.5, 0.0, 0.5], 20), ([0.2, 0.8, 0.0], 7),
     (np.arange(1, 10) / 45, 40)],
)
def test_resampled_counts_are_multinomial(probs, n):
    p = np.asarray(probs, dtype=float)
    thresholds = qoe._sampling_thresholds(p[None, :])
    R = 20_000
    c = resample_counts(np.array([n]), thresholds, R, 0, np.uint64(99))
    assert c.shape == (R, len(p))
    assert np.all(c.sum(axis=1) == n)
    assert np.all(c[:, p == 0] == 0)
    assert np.all(np.abs(c.mean(axis=0) - n * p) <= 5 * np.sqrt(n * p * (1 - p) / R))
    cov = n * (np.diag(p) - np.outer(p, p))
    np.testing.assert_allclose(np.cov(c.T), cov, atol=0.05 * n)
    # a chi-square goodness-of-fit test of the counts of the first category
    first = np.bincount(c[:, 0], minlength=n + 1)
    expected = R * stats.binom.pmf(np.arange(n + 1), n, p[0])
    keep = expected > 5
    if keep.sum() > 1:
        rest = np.append(first[keep], R - first[keep].sum())
        rest_expected = np.append(expected[keep], R - expected[keep].sum())
        assert stats.chisquare(rest, rest_expected).pvalue > 1e-3


def test_bootstrap_is_reproducible_and_independent_of_threads_and_chunks():
    counts = random_counts(60, seed=8)
    figures = {"mos": qoe.mos, "gob": qoe.gob}
    first = qoe.bootstrap_ci(counts, figures, n_boot=200, seed=5)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one_thread = qoe.bootstrap_ci(counts, figures, n_boot=200, seed=5, chunk_size=1000)
    finally:
        numba.set_num_threads(threads)
    assert first.equals(one_thread)
    assert not first.equals(qoe.bootstrap_ci(counts, figures, n_boot=200, seed=6))


def test_bootstrap_tables():
    counts = random_counts(20, seed=9)
    single = qoe.bootstrap_ci(counts, qoe.sos, n_boot=50)
    assert list(single.columns) == ["id", "estimate", "lower", "upper", "se"]
    np.testing.assert_allclose(single["estimate"], qoe.sos(counts))
    both = qoe.bootstrap_ci(counts, {"mos": qoe.mos, "pow": qoe.pow}, n_boot=50)
    assert list(both.columns) == ["id", "statistic", "estimate", "lower", "upper", "se"]
    assert both["statistic"].tolist() == ["mos"] * 20 + ["pow"] * 20
    assert np.all((both["lower"] <= both["estimate"] + 1e-12) | (both["statistic"] == "pow"))
    normal = qoe.bootstrap_ci(counts, qoe.mos, n_boot=50, interval="normal")
    half = stats.norm.ppf(0.975) * normal["se"]
    np.testing.assert_allclose(normal["upper"] - normal["estimate"], half)
    with pytest.raises(ValueError, match="needs a fit"):
        qoe.bootstrap_ci(counts, qoe.mos, method="parametric")
    with pytest.raises(ValueError, match="interval must be one of"):
        qoe.bootstrap_ci(counts, qoe.mos, interval="studentized")


def test_bootstrap_of_degenerate_stimuli():
    table = qoe.bootstrap_ci([[0, 1, 0], [0, 4, 0], [1, 0, 1]], qoe.mos, n_boot=50)
    assert table[["lower", "upper"]].to_numpy().tolist()[:2] == [[2, 2], [2, 2]]
    assert table["lower"][2] < 2 < table["upper"][2]
    limit = rd.fit([[0, 0, 5, 5, 0]], "normal")
    q10 = qoe.bootstrap_ci(limit, lambda r: qoe.quantile(r, 0.1), 50, method="parametric")
    assert q10[["estimate", "lower", "upper"]].to_numpy().tolist() == [[3.5, 3.5, 3.5]]


def test_percentile_interval_takes_the_usual_order_statistics():
    reps = np.arange(999.0)[None, ::-1]
    lower, upper = qoe._ordered_interval(reps, 0.95)
    assert (lower[0], upper[0]) == (24, 974)  # the 25th and 975th of 999
    bca = qoe._ordered_interval(reps, 0.95, np.array([499.0]), np.zeros(1))
    assert (bca[0][0], bca[1][0]) == (24, 974)  # no bias, no skew: BCa = percentile


def test_parametric_bootstrap_refits_like_the_fit():
    res = rd.fit(EXAMPLE, "logit-logistic", pseudo_counts=0.5)
    seen = []

    def q10(r):
        seen.append((r.family.name, r.pseudo_counts, len(r)))
        return qoe.quantile(r, 0.1)

    table = qoe.bootstrap_ci(res, q10, n_boot=100, method="parametric")
    assert ("logit-logistic", 0.5, 100) in seen
    assert table["lower"][0] < table["estimate"][0] < table["upper"][0]


# -- coverage by simulation ------------------------------------------------------------------
@pytest.fixture(scope="module")
def study():
    """1000 replications of a 24-rating panel from the truth (seed fixed), and the truth."""
    fam = rd.family(TRUTH_FAMILY)
    p = fam.pmf(TRUTH_PARAMS)
    truth = {"mos": p @ np.arange(1, 6), "gob": p[3:].sum(),
             "q10": float(fam.latent_ppf(TRUTH_PARAMS, 0.1))}
    return fam.sample_counts([TRUTH_PARAMS] * 1000, PANEL, rng=2024), truth


def coverage(table, truth: float) -> float:
    return float(np.mean((table["lower"] <= truth) & (truth <= table["upper"])))


def test_analytic_intervals_cover(study):
    counts, truth = study
    assert 0.93 <= coverage(qoe.mos_ci(counts), truth["mos"]) <= 0.97
    assert 0.93 <= coverage(qoe.gob_ci(counts), truth["gob"]) <= 0.97


def test_exact_coverage_of_analytic_intervals_for_the_truth():
    """Enumerating all 20,475 outcomes of 24 ratings: the coverage itself, no simulation."""
    outcomes = np.array([c for c in itertools.product(range(PANEL + 1), repeat=4)
                         if sum(c) <= PANEL])
    outcomes = np.column_stack([outcomes, PANEL - outcomes.sum(axis=1)])
    p = rd.family(TRUTH_FAMILY).pmf(TRUTH_PARAMS)
    weight = stats.multinomial.pmf(outcomes, PANEL, p)
    assert weight.sum() == pytest.approx(1)
    for table, truth in ((qoe.mos_ci(outcomes), p @ np.arange(1, 6)),
                         (qoe.gob_ci(outcomes), p[3:].sum())):
        covered = (table["lower"] <= truth) & (truth <= table["upper"])
        assert 0.94 <= weight @ covered <= 0.96


def test_bootstrap_intervals_cover(study):
    counts, truth = study
    res = rd.fit(counts, TRUTH_FAMILY)
    q10 = qoe.bootstrap_ci(res, lambda r: qoe.quantile(r, 0.1), n_boot=300,
                           method="parametric", seed=1)
    assert 0.93 <= coverage(q10, truth["q10"]) <= 0.97
    table = qoe.bootstrap_ci(counts, {"mos": qoe.mos, "gob": qoe.gob}, n_boot=300, seed=1)
    # the bootstrap of a mean of 24 ratings is known to run a little short (variance divisor
    # N instead of N − 1, normal instead of t quantiles): about 93 % here
    assert 0.91 <= coverage(table[table["statistic"] == "mos"], truth["mos"]) <= 0.97
    assert 0.93 <= coverage(table[table["statistic"] == "gob"], truth["gob"]) <= 0.97


# -- the KonIQ-10k example -------------------------------------------------------------------
@pytest.mark.data
def test_koniq_images_that_90_percent_rate_fair_or_better(koniq):
    fit = rd.fit(koniq, "logit-logistic")
    level = qoe.level_reached_by(fit, 0.9)
    model = level >= 2.5
    sample = qoe.share_reaching(koniq, 3, kind="category") >= 0.9
    n = len(koniq)
    print(
        f"\nKonIQ-10k, {n} images: 90 % of the crowd rate fair or better (latent 10 % quantile "
        f">= 2.5, logit-logistic) for {model.sum()} images ({model.mean():.1%}); "
        f">= 90 % of the ratings are >= 3 for {sample.sum()} ({sample.mean():.1%}); "
        f"both {np.sum(model & sample)}, model only {np.sum(model & ~sample)}, "
        f"sample only {np.sum(~model & sample)}"
    )
    assert 0.55 < model.mean() < 0.65
    assert np.mean(model == sample) > 0.98
