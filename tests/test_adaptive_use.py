"""Adaptive fits used downstream: QoE figures under learned thresholds (against scipy from the
reported parameters, and against ``rd.fit`` at the reference thresholds) and the held-out-ratings
experiment with thresholds learned from the train ratings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import ratingdist as rd
from ratingdist import qoe
from ratingdist.evaluation.predictive import heldout_nll, split_counts

K = 5
_DIST = {"normal": stats.norm, "logistic": stats.logistic}


def _study(seed=0, n=40, ratings=20):
    rng = np.random.default_rng(seed)
    tau = np.array([1.5, 2.3, 3.7, 4.5])
    mu = rng.uniform(1.5, 4.5, n)
    sigma = rng.uniform(0.5, 1.2, n)
    cdf = stats.norm.cdf((tau[None, :] - mu[:, None]) / sigma[:, None])
    p = np.diff(np.column_stack([np.zeros(n), cdf, np.ones(n)]), axis=1)
    p = 0.97 * p + 0.03 / K
    counts = np.array([rng.multinomial(ratings, q) for q in p])
    counts[0] = [0, 0, 7, 0, 0]  # a σ → 0 limit
    return counts


@pytest.mark.parametrize("family", ["normal", "logistic"])
@pytest.mark.parametrize("lapse", [None, "shared"])
def test_qoe_figures_from_the_reported_parameters(family, lapse):
    counts = _study()
    res = rd.fit_adaptive(counts, family, lapse=lapse)
    tab = res.table
    tau = res.thresholds["value"].to_numpy()
    lam = 0.0 if lapse is None else float(res.lapse["value"].iloc[0])
    dist = _DIST[family]
    smooth = ~tab["limit"].to_numpy()
    mu, sigma = tab["mu"].to_numpy()[smooth], tab["sigma"].to_numpy()[smooth]
    # category figures: the lapse mixes in 1/K per category
    good = (1 - lam) * dist.sf(tau[3 - 1], mu, sigma) + 2 * lam / K
    np.testing.assert_allclose(qoe.gob(res)[smooth], good, rtol=1e-10, atol=1e-13)
    poor = (1 - lam) * dist.cdf(tau[2 - 1], mu, sigma) + 2 * lam / K
    np.testing.assert_allclose(qoe.pow(res)[smooth], poor, rtol=1e-10, atol=1e-13)
    cdf = np.column_stack([np.zeros(smooth.sum())]
                          + [dist.cdf(t, mu, sigma) for t in tau] + [np.ones(smooth.sum())])
    p = (1 - lam) * np.diff(cdf, axis=1) + lam / K
    np.testing.assert_allclose(qoe.mos(res)[smooth], p @ np.arange(1, K + 1), rtol=1e-12)
    # latent figures: the stimulus' latent law on the axis of the learned thresholds
    np.testing.assert_allclose(qoe.quantile(res, 0.1)[smooth], dist.ppf(0.1, mu, sigma),
                               rtol=1e-12)
    np.testing.assert_allclose(qoe.level_reached_by(res, 0.9)[smooth],
                               dist.ppf(0.1, mu, sigma), rtol=1e-12)
    np.testing.assert_allclose(qoe.share_reaching(res, tau[1])[smooth],
                               dist.sf(tau[1], mu, sigma), rtol=1e-10, atol=1e-14)
    # the limit stimulus: all latent mass at its μ (inside category 3)
    assert qoe.quantile(res, 0.1)[0] == pytest.approx(tab["mu"].iloc[0])
    assert tau[1] < qoe.quantile(res, 0.9)[0] < tau[2]
    assert qoe.share_reaching(res, tau[2])[0] == 0.0
    assert qoe.share_reaching(res, tau[1])[0] == 1.0


@pytest.mark.parametrize("lapse", [None, "shared"])
def test_qoe_figures_of_logit_logistic_from_the_reported_parameters(lapse):
    # thresholds on [0, 1]; X = expit(logit μ + s·L) with L standard logistic; the latent
    # figures on the rating axis u = 0.5 + K·x
    counts = _study(4)
    res = rd.fit_adaptive(counts, "logit-logistic", lapse=lapse)
    tab = res.table
    tau = res.thresholds["value"].to_numpy()
    assert np.all((tau > 0) & (tau < 1)) and tau[0] == 0.2 and tau[-1] == 0.8
    lam = 0.0 if lapse is None else float(res.lapse["value"].iloc[0])
    smooth = ~tab["limit"].to_numpy()
    lmu, s = tab["mu"].to_numpy()[smooth], tab["sigma"].to_numpy()[smooth]

    def cdf(x):  # the reference study's form: 1/(1 + (μ(1 − x)/(x(1 − μ)))^{1/s})
        return 1.0 / (1.0 + (np.exp(lmu) * (1 - x) / x) ** (1.0 / s))

    good = (1 - lam) * (1 - cdf(tau[2])) + 2 * lam / K
    np.testing.assert_allclose(qoe.gob(res)[smooth], good, rtol=1e-10, atol=1e-13)
    q = np.exp(lmu + s * np.log(0.1 / 0.9))
    np.testing.assert_allclose(qoe.quantile(res, 0.1)[smooth], 0.5 + K * q / (1 + q), rtol=1e-12)
    np.testing.assert_allclose(qoe.share_reaching(res, 0.5 + K * tau[1])[smooth],
                               1 - cdf(tau[1]), rtol=1e-10, atol=1e-14)
    # the limit stimulus (all ratings in 3): its atom in the middle of category 3 on [0, 1]
    assert tab["limit"].iloc[0]
    assert qoe.quantile(res, 0.1)[0] == pytest.approx(0.5 + K * (tau[1] + tau[2]) / 2)


@pytest.mark.parametrize("family", ["normal", "logistic", "logit-logistic"])
def test_qoe_at_reference_thresholds_equals_rd_fit(family):
    counts = _study(1)[1:]
    fixed = rd.fit_adaptive(counts, family).fixed()
    ref = rd.fit(counts, family)
    for f in (qoe.gob, qoe.pow, qoe.mos, lambda x: qoe.quantile(x, 0.1),
              lambda x: qoe.share_reaching(x, 3.5)):
        np.testing.assert_allclose(f(fixed), f(ref), rtol=1e-5, atol=1e-7)


def test_qoe_per_cell_of_groups():
    rng = np.random.default_rng(3)
    counts = rng.multinomial(15, [0.1, 0.2, 0.4, 0.2, 0.1], size=(2, 30))
    res = rd.fit_adaptive(counts, thresholds="per-group")
    g = qoe.gob(res)
    assert g.shape == (len(res.cells),)
    np.testing.assert_allclose(g, res.cell_probs()[:, 3:].sum(axis=1), rtol=1e-12)
    ids = res.cell_model().counts.ids
    assert list(ids[:2]) == [f"{res.cells['id'].iloc[0]}|{res.cells['group'].iloc[0]}",
                             f"{res.cells['id'].iloc[1]}|{res.cells['group'].iloc[1]}"]
    with pytest.raises(TypeError, match="adaptive fit"):
        qoe.bootstrap_ci(res, qoe.gob)
    with pytest.raises(TypeError, match="interval for the sample"):
        qoe.mos_ci(res)


def test_predictive_experiment_with_learned_thresholds():
    rc = rd.RatingCounts(np.arange(60), _study(2, n=60, ratings=24))
    ex = rd.evaluation.predictive_experiment(
        rc, ["normal", "beta"], [6, 12], repeats=2, seed=0, methods=["mle", "prob_floor"],
        learned_thresholds=True,
    )
    names = list(ex.predictors["predictor"])
    assert {"normal/learned-mle", "normal/learned-prob_floor", "beta/learned-mle",
            "beta/learned-prob_floor"} <= set(names)
    # the learned predictor is the adaptive fit of the train counts only
    s, r = 1, 1
    rows = rc.n_ratings > 12
    train, test = split_counts(rc.counts[rows], 12, seed=0, repeat=r)
    probs = rd.fit_adaptive(train, "normal").cell_probs()
    floor = (1 - K * 1e-3) * probs + 1e-3
    col = names.index("normal/learned-prob_floor")
    np.testing.assert_allclose(ex.nll[s, r, rows, col], heldout_nll(test, floor), rtol=1e-12)
    assert np.isnan(ex.nll[s, r, ~rows, col]).all()
    # paired comparison: mean and se of the per-stimulus differences
    pair = ex.paired("normal/learned-prob_floor", "normal/prob_floor")
    per = ex.nll.mean(axis=1)
    d = per[0, :, col] - per[0, :, names.index("normal/prob_floor")]  # size 6: every stimulus
    assert pair["delta"].iloc[0] == pytest.approx(d.mean(), rel=1e-12)
    assert pair["se"].iloc[0] == pytest.approx(d.std(ddof=1) / np.sqrt(len(d)), rel=1e-12)
    with pytest.raises(ValueError, match="unknown predictor"):
        ex.paired("normal/learned-posterior", "normal/mle")
    with pytest.raises(ValueError, match="learned_thresholds needs one of"):
        rd.evaluation.predictive_experiment(rc, ["gsd"], [6], repeats=1,
                                            learned_thresholds=True)
