"""Predicting unseen ratings: the splits, the posterior predictive, the experiment and its
headline table (the reference study's claim that fitted models predict held-out ratings better
than the ratings seen)."""

import itertools

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import ratingdist as rd
from ratingdist.evaluation import predictive as pred

from . import reference_posterior as ref

#: (dataset fixture, train sizes) of the headline experiment.
HEADLINE = (("VQEG-HDTV", "vqeg", (5, 10, 20)), ("KonIQ-10k", "koniq", (10, 20, 40)))
#: Families closed under reversing the scale (k → K + 1 − k).
SYMMETRIC = ("normal", "logistic", "beta", "logit-logistic", "maxent", "gsd")


# -- splits ----------------------------------------------------------------------------------
def test_split_is_multivariate_hypergeometric():
    """G-test of 20,000 splits of one panel against the multivariate hypergeometric pmf."""
    row = np.array([2, 5, 9, 6, 2])
    size = 6
    train, test = rd.evaluation.split_counts(np.tile(row, (20000, 1)), size, seed=3)
    np.testing.assert_array_equal(train + test, np.tile(row, (20000, 1)))
    assert (train.sum(axis=1) == size).all()
    outcomes, observed = np.unique(train, axis=0, return_counts=True)
    support = np.array(
        [c for c in itertools.product(*(range(k + 1) for k in row)) if sum(c) == size]
    )
    expected = stats.multivariate_hypergeom.pmf(support, m=row, n=size) * len(train)
    assert expected.sum() == pytest.approx(len(train))
    index = {tuple(c): i for i, c in enumerate(support)}
    counts = np.zeros(len(support))
    for outcome, n in zip(outcomes, observed):
        counts[index[tuple(outcome)]] = n
    keep = expected >= 5  # pool the rare outcomes into one cell
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    g = 2 * np.sum(np.where(obs > 0, obs * np.log(obs / exp), 0.0))
    assert stats.chi2.sf(g, len(obs) - 1) > 1e-3


def test_split_keeps_small_panels_whole_and_is_seeded():
    counts = [[0, 1, 2, 0, 0], [3, 4, 5, 6, 7]]
    train, test = rd.evaluation.split_counts(counts, 4, seed=5, repeat=2)
    assert train[0].tolist() == [0, 1, 2, 0, 0] and test[0].sum() == 0
    again, _ = rd.evaluation.split_counts(counts, 4, seed=5, repeat=2)
    other, _ = rd.evaluation.split_counts(np.tile(counts[1], (50, 1)), 4, seed=5, repeat=3)
    np.testing.assert_array_equal(train, again)
    assert len(np.unique(other, axis=0)) > 1


def test_results_do_not_depend_on_the_thread_count():
    counts = rd.family("beta").sample_counts([[6.0, 3.0]] * 300, 30, rng=0).counts
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = rd.evaluation.split_counts(counts, 7, seed=1)[0]
        q_one = rd.evaluation.posterior_predictive(one, "beta")
        numba.set_num_threads(previous)
        many = rd.evaluation.split_counts(counts, 7, seed=1)[0]
        q_many = rd.evaluation.posterior_predictive(many, "beta")
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(q_one, q_many)


# -- posterior predictive ------------------------------------------------------------------
counts_strategy = st.lists(st.integers(0, 12), min_size=5, max_size=5).filter(lambda c: sum(c) > 0)


@settings(max_examples=40, deadline=None)
@given(counts_strategy, st.sampled_from(SYMMETRIC))
def test_posterior_predictive_is_a_positive_pmf_symmetric_under_reversal(c, name):
    q = rd.evaluation.posterior_predictive([c, c[::-1]], name)
    assert np.all(q > 0)
    np.testing.assert_allclose(q.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(q[1], q[0][::-1], rtol=1e-6, atol=1e-12)


#: (family, counts, largest relative error) checked against the independent adaptive cubature.
REFERENCE_CASES = (
    ("gsd", [0, 2, 5, 2, 1], 2e-3),
    ("gsd", [0, 8, 20, 8, 4], 2e-3),
    ("gsd", [1, 3, 1, 0, 0], 2e-3),
    ("gsd", [0, 0, 3, 2, 0], 5e-3),
    ("maxent", [0, 1, 6, 12, 1], 5e-4),
    ("maxent", [0, 4, 10, 4, 2], 5e-4),
    ("maxent", [0, 0, 12, 8, 0], 2e-2),
    ("logit-logistic", [0, 1, 6, 12, 1], 5e-4),
)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "counts", "rtol"), REFERENCE_CASES)
def test_posterior_predictive_matches_adaptive_cubature(name, counts, rtol):
    """The grid quadrature against tests/reference_posterior.py (adaptive Gauss–Kronrod,
    written separately): ~1e-4 relative on spread panels; panels in two adjacent categories,
    whose posterior piles up against ρ = 1, to ~1e-2 relative (< 1e-3 absolute)."""
    ours = rd.evaluation.posterior_predictive([counts], name)[0]
    theirs = ref.posterior_predictive_reference(counts, name)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)
    assert np.abs(ours - theirs).max() < 1e-3


def test_posterior_predictive_of_degenerate_panels_is_well_defined():
    counts = [[0, 0, 1, 0, 0], [0, 0, 24, 0, 0], [0, 10, 14, 0, 0], [9, 0, 0, 0, 15]]
    for name in rd.FAMILIES:
        q = rd.evaluation.posterior_predictive(counts, name)
        assert np.all(np.isfinite(q)) and np.all(q > 0), name
        np.testing.assert_allclose(q.sum(axis=1), 1.0, atol=1e-12)
        # more ratings in one category: more confidence in it
        assert q[1, 2] > q[0, 2] > 0.2, name
        assert q[2, 1] + q[2, 2] > 0.85, name


@pytest.mark.data
@pytest.mark.parametrize("name", rd.FAMILIES)
def test_posterior_predictive_tends_to_the_mle(name, koniq):
    """The posterior predictive approaches the fitted pmf as the panel grows."""
    full = koniq.counts[:300]
    part, _ = rd.evaluation.split_counts(full, 20, seed=0)
    gaps = []
    for counts in (part, full):
        q = rd.evaluation.posterior_predictive(counts, name)
        gaps.append(np.abs(q - rd.fit(counts, name).probs).sum(axis=1).mean())
    assert gaps[1] < 0.5 * gaps[0]
    assert gaps[1] < 0.03


def test_prior_is_used_and_checked():
    counts = [[0, 2, 3, 0, 0]]
    flat = rd.evaluation.posterior_predictive(counts, "gsd")
    spread = rd.evaluation.posterior_predictive(counts, "gsd", prior=lambda psi, rho: 1 - rho)
    assert spread[0, [0, 3, 4]].sum() > flat[0, [0, 3, 4]].sum()
    with pytest.raises(ValueError, match="prior must return"):
        rd.evaluation.posterior_predictive(counts, "gsd", prior=lambda psi, rho: -rho)


# -- the experiment --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_experiment():
    fam = rd.family("logit-logistic")
    counts = fam.sample_counts([fam.from_reference_params([0.6, 0.3])] * 120, 24, rng=2)
    counts = rd.RatingCounts(np.arange(121), np.vstack([counts.counts, [[0, 0, 3, 0, 0]]]))
    ex = rd.evaluation.predictive_experiment(
        counts, ["normal", "gsd"], train_sizes=[4, 12], repeats=3, seed=7
    )
    return counts, ex


def test_experiment_scores_are_the_direct_computation(small_experiment):
    counts, ex = small_experiment
    names = list(ex.predictors["predictor"])
    eligible = counts.n_ratings > 4
    train, test = rd.evaluation.split_counts(counts.counts[eligible], 4, seed=7, repeat=1)
    n_test = test.sum(axis=1)

    def direct(q):
        return -(test * np.log(q)).sum(axis=1) / n_test

    got = ex.nll[0, 1, eligible]
    empirical = 0.001 + (1 - 5 * 0.001) * train / 4
    np.testing.assert_allclose(got[:, names.index("empirical")], direct(empirical), rtol=1e-12)
    add_half = (train + 0.5) / (4 + 2.5)
    np.testing.assert_allclose(got[:, names.index("add-0.5")], direct(add_half), rtol=1e-12)
    mle = rd.fit(train, "normal").probs
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_mle = -np.where(test > 0, test * np.log(mle), 0).sum(axis=1) / n_test
    np.testing.assert_allclose(got[:, names.index("normal/mle")], expected_mle, rtol=1e-9)
    floored = 0.001 + (1 - 5 * 0.001) * mle
    np.testing.assert_allclose(got[:, names.index("normal/prob_floor")], direct(floored),
                               rtol=1e-9)
    smoothed = rd.fit(train, "gsd", pseudo_counts=0.5).probs
    np.testing.assert_allclose(got[:, names.index("gsd/pseudo_counts")], direct(smoothed),
                               rtol=1e-9)
    posterior = rd.evaluation.posterior_predictive(train, "gsd")
    np.testing.assert_allclose(got[:, names.index("gsd/posterior")], direct(posterior),
                               rtol=1e-12)
    # the panel with 3 ratings has no test rating at either train size: left out, not scored
    assert np.isnan(ex.nll[:, :, -1]).all() and not np.isnan(ex.nll[:, :, :-1]).any()


def test_best_alpha_minimizes_the_mean_test_nll(small_experiment):
    counts, ex = small_experiment
    eligible = counts.n_ratings > 12
    splits = [rd.evaluation.split_counts(counts.counts[eligible], 12, seed=7, repeat=r)
              for r in range(3)]
    train = np.vstack([s[0] for s in splits])
    test = np.vstack([s[1] for s in splits])

    def mean_nll(alpha):
        return pred.heldout_nll(test, pred.add_alpha(train, alpha)).mean()

    best = ex.best_alpha[1]
    assert mean_nll(best) <= min(mean_nll(best * 1.05), mean_nll(best / 1.05))
    grid = np.geomspace(1e-3, 1e2, 400)
    assert mean_nll(best) <= min(mean_nll(a) for a in grid) + 1e-9


def test_summary_and_table_agree(small_experiment):
    _, ex = small_experiment
    summary, table = ex.summary, ex.table
    assert len(summary) == 2 * len(ex.predictors)
    by_hand = table.groupby(["train_size", "predictor"], sort=False)["nll"].mean()
    merged = summary.set_index(["train_size", "predictor"])["mean_nll"]
    np.testing.assert_allclose(merged.loc[by_hand.index], by_hand, rtol=1e-12)
    mle = summary[summary["method"] == "mle"]
    assert (mle["share_infinite"] > 0).all() and np.isinf(mle["mean_nll"]).all()
    finite = summary[summary["method"] != "mle"]
    assert np.isfinite(finite["mean_nll"]).all() and (finite["share_infinite"] == 0).all()
    assert set(table.columns) >= {"train_size", "id", "predictor", "nll", "likelihood"}
    assert (table.loc[table["train_size"] == 4, "id"] != 120).all()
    assert "PredictiveExperiment(n=121" in repr(ex)


def test_bad_options_are_clear_errors():
    counts = [[1, 2, 3, 4, 5]]
    run = rd.evaluation.predictive_experiment
    with pytest.raises(ValueError, match="train sizes must be whole numbers >= 1"):
        run(counts, ["normal"], [0])
    with pytest.raises(ValueError, match="no stimulus has more than 15 ratings"):
        run(counts, ["normal"], [15])
    with pytest.raises(ValueError, match="methods must be a non-empty subset"):
        run(counts, ["normal"], [5], methods=["bayes"])
    with pytest.raises(ValueError, match=r"prob_floor must lie in \(0, 1/K\)"):
        run(counts, ["normal"], [5], prob_floor=0.5)
    with pytest.raises(ValueError, match="repeats must be a whole number"):
        run(counts, ["normal"], [5], repeats=0)
    with pytest.raises(ValueError, match="unknown family"):
        run(counts, ["gauss"], [5])


# -- the headline table ------------------------------------------------------------------
def markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(table.columns) + " |", "|" + " --- |" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.to_numpy()]
    return "\n".join(lines)


def headline_table(label: str, ex: rd.evaluation.PredictiveExperiment) -> pd.DataFrame:
    """Mean test NLL per rating (± standard error) per family and train size, best method."""
    s = ex.summary
    rows = []
    for size, part in s.groupby("train_size", sort=False):
        def cell(row):
            return f"{row['mean_nll']:.4f} ± {row['se']:.4f}"

        baselines = part[part["family"].isna()].set_index("predictor")
        for name, fam_part in part[part["family"].notna()].groupby("family", sort=False):
            finite = fam_part[np.isfinite(fam_part["mean_nll"])]
            by_method = fam_part.set_index("method")
            post = by_method.loc["posterior"]
            half = f"{post['delta_add_half']:+.4f} ± {post['se_delta_add_half']:.4f}"
            best = f"{post['delta_add_best']:+.4f} ± {post['se_delta_add_best']:.4f}"
            rows.append(
                {
                    "data": label,
                    "train": size,
                    "family": name,
                    "posterior": cell(post),
                    "pseudo_counts": cell(by_method.loc["pseudo_counts"]),
                    "mle: share inf": f"{by_method.loc['mle', 'share_infinite']:.3f}",
                    "Δ vs add-½": half,
                    "Δ vs add-best": best,
                    "best of family": finite.loc[finite["mean_nll"].idxmin(), "method"],
                }
            )
        rows.append(
            {
                "data": label,
                "train": size,
                "family": "baselines",
                "posterior": f"add-½ {cell(baselines.loc['add-0.5'])}",
                "pseudo_counts": f"add-{ex.best_alpha[list(ex.train_sizes).index(size)]:.3f} "
                f"(best) {cell(baselines.loc['add-best'])}",
                "mle: share inf": f"empirical {cell(baselines.loc['empirical'])}",
            }
        )
    return pd.DataFrame(rows).fillna("")


@pytest.mark.data
@pytest.mark.slow
def test_models_predict_unseen_ratings_better_than_smoothing(koniq, vqeg, capsys):
    """The headline: at every train size, on both datasets, the best ratingdist predictive fit
    has a lower mean test NLL per rating than add-½ and than the best-in-hindsight add-α."""
    data = {"vqeg": vqeg, "koniq": koniq}
    for label, key, sizes in HEADLINE:
        ex = rd.evaluation.predictive_experiment(data[key], train_sizes=sizes, repeats=10, seed=0)
        best = ex.best()
        with capsys.disabled():
            print(f"\n{label}\n" + markdown(headline_table(label, ex)))
            print(best.round(5).to_string(index=False))
        assert best["beats_add_half"].all(), (label, best)
        assert best["beats_add_best"].all(), (label, best)
        assert best["best_predictor"].str.endswith("/posterior").all()
