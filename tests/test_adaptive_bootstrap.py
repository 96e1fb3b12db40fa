"""``AdaptiveResult.bootstrap``: parametric-bootstrap intervals of the thresholds and lapses,
checked against the replicates' own quantiles, a direct NumPy redraw of the bootstrap studies,
and the Wald standard errors. The coverage over 200 simulated studies is a benchmark
(``benchmarks/bench_adaptive.py --bootstrap-coverage 200``; figures in the README)."""

from __future__ import annotations

import numpy as np
import pytest

import ratingdist as rd

from .test_adaptive import simulate

TAU = [[1.5, 2.4, 3.6, 4.5], [1.1, 2.3, 3.8, 4.8]]


@pytest.fixture(scope="module")
def study():
    counts = simulate(21, n=40, G=2, tau=TAU, lam=[0.03, 0.08], ratings=40)
    return rd.fit_adaptive(counts, thresholds="per-group", lapse="per-group")


@pytest.fixture(scope="module")
def boot(study):
    return study.bootstrap(60, seed=3)


def test_intervals_are_the_basic_intervals_of_the_replicates(study, boot):
    d = boot.replicates
    assert d.shape == (60 - boot.n_failed, 8 + 2) and boot.n_failed == 0
    tau = study._fit["tau"].ravel()
    q_lo, q_hi = np.quantile(d, [0.025, 0.975], axis=0)
    th = boot.thresholds
    free = ~th["pinned"].to_numpy()
    np.testing.assert_allclose(th["ci_low"][free], (2 * tau - q_hi[:8])[free], rtol=1e-12)
    np.testing.assert_allclose(th["ci_high"][free], (2 * tau - q_lo[:8])[free], rtol=1e-12)
    np.testing.assert_allclose(th["bias"][free], (d[:, :8].mean(0) - tau)[free], atol=1e-12)
    np.testing.assert_array_equal(th["value"], study.thresholds["value"])
    assert (th.loc[~free, ["bias", "se"]] == 0).all().all()
    # lapses: the basic interval of √λ, squared back
    lam = study._fit["lam"]
    r_lo, r_hi = np.quantile(np.sqrt(d[:, 8:]), [0.025, 0.975], axis=0)
    la = boot.lapse
    np.testing.assert_allclose(la["ci_low"], np.maximum(2 * np.sqrt(lam) - r_hi, 0) ** 2,
                               rtol=1e-12)
    np.testing.assert_allclose(la["ci_high"], (2 * np.sqrt(lam) - r_lo) ** 2, rtol=1e-12)
    np.testing.assert_allclose(la["se"], d[:, 8:].std(0, ddof=1), rtol=1e-12)
    assert (la["ci_low"] < la["value"]).all() and (la["value"] < la["ci_high"]).all()


def test_replicates_are_fits_of_studies_drawn_from_the_fitted_cells(study, boot):
    # the first replicate redrawn with NumPy from the fitted cell probabilities
    rng = np.random.default_rng(3)
    p = study.cell_probs()
    counts = rng.multinomial(study._study.counts.sum(axis=1), p / p.sum(axis=1, keepdims=True))
    first = study._refit(counts)
    np.testing.assert_array_equal(boot.replicates[0, :8], first._fit["tau"].ravel())
    # the bootstrap spread of the thresholds is that of the sampling distribution the Wald se
    # describes (to the noise of 60 replicates)
    free = ~boot.thresholds["pinned"].to_numpy()
    ratio = boot.thresholds["se"][free] / study.thresholds["se"][free]
    assert ratio.between(0.6, 1.5).all(), ratio.tolist()


def test_deterministic_in_the_seed(study, boot):
    again = study.bootstrap(60, seed=3)
    np.testing.assert_array_equal(again.replicates, boot.replicates)
    assert not np.array_equal(study.bootstrap(20, seed=4).replicates[:20], boot.replicates[:20])


def test_logit_logistic_intervals_on_zero_one():
    counts = simulate(22, n=30, G=1, family="logistic", lam=[0.04], ratings=30)
    res = rd.fit_adaptive(counts, "logit-logistic", lapse="shared")
    b = res.bootstrap(30, seed=0)
    th = b.thresholds
    assert th["value"].iloc[0] == 0.2 and th["value"].iloc[-1] == 0.8
    assert ((th["ci_low"] > 0) & (th["ci_high"] < 1)).all()
    free = ~th["pinned"].to_numpy()
    u = res._fit["tau"].ravel()
    q_lo, q_hi = np.quantile(b.replicates[:, :4], [0.025, 0.975], axis=0)
    for col, edge in (("ci_low", 2 * u - q_hi), ("ci_high", 2 * u - q_lo)):
        np.testing.assert_allclose(th[col][free], (1 / (1 + np.exp(-edge)))[free], rtol=1e-12)


def test_a_lapse_on_its_bound_gets_the_upper_quantile():
    counts = simulate(23, n=30, G=1, ratings=20)  # no lapse in the data
    res = rd.fit_adaptive(counts, lapse="shared")
    assert res.lapse["at_bound"].iloc[0]
    b = res.bootstrap(20, seed=0)
    row = b.lapse.iloc[0]
    assert row["ci_low"] == 0.0 and row["value"] == 0.0
    assert row["ci_high"] == pytest.approx(np.quantile(b.replicates[:, -1], 0.975), rel=1e-12)


def test_fixed_thresholds_bootstrap_only_the_lapse():
    counts = simulate(24, n=20, G=1, lam=[0.05], ratings=30)
    b = rd.fit_adaptive(counts, lapse="shared").fixed().bootstrap(20, seed=0)
    assert b.thresholds["pinned"].all() and (b.thresholds["se"] == 0).all()
    assert b.lapse["se"].iloc[0] > 0


def test_unidentified_replicates_are_counted_or_refused():
    # category 1 seen twice in the study: some replicates lose it, leaving τ_1 of group 1 free
    counts = np.array([[[1, 3, 5, 3, 1], [0, 2, 6, 4, 0]], [[0, 4, 5, 3, 1], [1, 2, 5, 4, 1]]])
    res = rd.fit_adaptive(counts, thresholds="per-group")
    b = res.bootstrap(40, seed=1)
    assert 0 < b.n_failed < 20 and len(b.replicates) == 40 - b.n_failed
    rare = np.array([[[1, 3, 5, 3, 1]], [[1, 4, 5, 3, 1]]])
    with pytest.raises(ValueError, match="too small for the bootstrap"):
        rd.fit_adaptive(rare, thresholds="per-group", scale="common").bootstrap(20, seed=0)


@pytest.mark.parametrize("kwargs, match", [({"n_boot": 10}, "n_boot must be"),
                                           ({"n_boot": 25.5}, "n_boot must be"),
                                           ({"level": 1.0}, "level must be")])
def test_bad_arguments(study, kwargs, match):
    with pytest.raises(ValueError, match=match):
        study.bootstrap(**kwargs)
